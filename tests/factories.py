"""factory_boy factories; every factory commits so requests see the rows."""
import factory
from argon2 import PasswordHasher
from factory.alchemy import SQLAlchemyModelFactory

from kpiapp.extensions import db
from kpiapp.models import ClientCompany, Department, Position, Role, Store, StoreOwner, User

PASSWORD = "correct horse battery staple"
# argon2id at its lowest cost: argon2 is slow on purpose (0.1 s or more per check at the app's
# cost) and test users sign in thousands of times; the cost is read from the hash when it is
# checked.  What the app itself stores, and at what cost, tests/web/test_auth.py checks.
_HASH = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD)


class Base(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "commit"


class DepartmentFactory(Base):
    class Meta:
        model = Department

    name = factory.Sequence(lambda n: f"Department {n}")


class PositionFactory(Base):
    class Meta:
        model = Position

    title = factory.Sequence(lambda n: f"Position {n}")


class ClientCompanyFactory(Base):
    class Meta:
        model = ClientCompany

    name = factory.Sequence(lambda n: f"Client {n} Ltd")


class UserFactory(Base):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    name = factory.Sequence(lambda n: f"Person {n}")
    role = Role.employee
    password_hash = _HASH
    department = factory.SubFactory(DepartmentFactory)
    position = factory.SubFactory(PositionFactory)


class ClientUserFactory(UserFactory):
    role = Role.client
    department = None
    position = None
    client_company = factory.SubFactory(ClientCompanyFactory)


class StoreFactory(Base):
    class Meta:
        model = Store

    code = factory.Sequence(lambda n: f"ST-{n}")
    name = factory.Sequence(lambda n: f"Store {n}")
    platform = "amazon"
    marketplace = "US"
    currency = "USD"
    timezone = "America/Los_Angeles"


class StoreOwnerFactory(Base):
    class Meta:
        model = StoreOwner

    store = factory.SubFactory(StoreFactory)
    person = factory.SubFactory(UserFactory)
    share_pct = 100
