"""Org structure: departments, positions, stores, client companies, store owners."""
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kpiapp.extensions import db


class Platform(StrEnum):
    amazon = "amazon"
    shopee = "shopee"
    tiktok = "tiktok"
    lazada = "lazada"
    walmart = "walmart"
    other = "other"


class Department(db.Model):
    __tablename__ = "department"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    parent = relationship("Department", remote_side=[id], back_populates="children")
    children = relationship("Department", back_populates="parent", order_by="Department.name")

    def path(self):
        names, node, seen = [], self, set()
        while node is not None and node.id not in seen:
            seen.add(node.id)
            names.append(node.name)
            node = node.parent
        return " / ".join(reversed(names))

    def descendant_ids(self):
        ids, stack = set(), [self]
        while stack:
            node = stack.pop()
            if node.id in ids:
                continue
            ids.add(node.id)
            stack.extend(node.children)
        return ids


class Position(db.Model):
    __tablename__ = "position"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(120), unique=True)


class ClientCompany(db.Model):
    """An outsourcing client of the agency; its users see only its own contracts."""

    __tablename__ = "client_company"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(160), unique=True)


class Store(db.Model):
    __tablename__ = "store"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(160))
    platform: Mapped[Platform] = mapped_column(String(20))
    marketplace: Mapped[str] = mapped_column(String(8))
    currency: Mapped[str] = mapped_column(String(3))
    timezone: Mapped[str] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(default=True)
    # a client's store that the agency operates (docs/contracts.md); None: our own store
    client_company_id: Mapped[int | None] = mapped_column(ForeignKey("client_company.id"), index=True)
    owners = relationship("StoreOwner", back_populates="store", cascade="all, delete-orphan")

    def share_total(self, excluding_id=None):
        return sum((o.share_pct for o in self.owners if o.id != excluding_id), Decimal(0))


class StoreOwner(db.Model):
    """A person responsible for a store, with the share of the store credited to them."""

    __tablename__ = "store_owner"
    __table_args__ = (
        UniqueConstraint("store_id", "person_id"),
        CheckConstraint("share_pct > 0 AND share_pct <= 100", name="share_range"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("store.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    share_pct: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    store = relationship("Store", back_populates="owners")
    person = relationship("User")
