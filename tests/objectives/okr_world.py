"""The OKR tests' set-up: a company line (HR, a general manager, two department heads, three
people sharing stores), a KPI cycle on this quarter with a GMV item, and helpers."""
from datetime import timedelta
from decimal import Decimal

from kpiapp.appraisal import services as appraisal
from kpiapp.extensions import db
from kpiapp.imports.services import start_import
from kpiapp.models import PeriodKind, StoreOwner
from kpiapp.objectives import services as okr
from kpiapp.objectives.services import period_bounds
from kpiapp.tracking import services as tracking
from tests.appraisal.factories import HRFactory
from tests.factories import DepartmentFactory, PositionFactory, UserFactory
from tests.imports.files import generic_file, store

TODAY = tracking.utc_today()
Q_START, Q_END = period_bounds(PeriodKind.quarter, TODAY)
QUARTER = f"{TODAY.year}-Q{(TODAY.month - 1) // 3 + 1}"
D1 = min(Q_START + timedelta(days=1), TODAY)  # facts on or before today
D2 = min(Q_START + timedelta(days=2), TODAY)

GMV_ITEM = {"kind": "metric", "metric_key": "gmv", "name": "GMV", "weight": "100", "threshold": "100",
            "target": "200", "stretch": "300", "rule": {"kind": "linear", "cap": "120"}}


class World:
    pass


def make_world():
    w = World()
    w.us = store(code="OKR-US")
    w.de = store(code="OKR-DE", currency="EUR", marketplace="DE", timezone="Europe/Berlin")
    sales, ops = DepartmentFactory(name="Sales EU"), DepartmentFactory(name="Operations")
    pos = PositionFactory()
    w.sales, w.ops = sales, ops
    w.hr = HRFactory(department=ops)
    w.gm = UserFactory(department=ops, name="General Manager")
    w.head = UserFactory(department=sales, manager=w.gm, name="Head of Sales")
    w.ops_head = UserFactory(department=ops, manager=w.gm, name="Head of Ops")
    w.people = [UserFactory(department=sales, position=pos, manager=w.head, name=f"Seller {n}") for n in range(3)]
    w.outsider = UserFactory(department=ops, manager=w.ops_head, name="Outsider")
    db.session.add_all([StoreOwner(store=w.us, person=w.people[0], share_pct=Decimal("100")),
                        StoreOwner(store=w.de, person=w.people[0], share_pct=Decimal("50")),
                        StoreOwner(store=w.de, person=w.people[1], share_pct=Decimal("30")),
                        StoreOwner(store=w.de, person=w.people[2], share_pct=Decimal("20"))])
    db.session.flush()
    appraisal.create_template(w.hr, code="okr", name="OKR test", items=[GMV_ITEM], position_id=pos.id)
    w.cycle = appraisal.create_cycle(w.hr, name="This quarter", kind="quarterly", period_start=Q_START,
                                     period_end=Q_END, participants=[{"position_id": pos.id}])
    appraisal.start_cycle(w.cycle.id, w.hr.id)
    db.session.commit()
    return w


def load_sales(w, us_amount="1000.00", de_amount="500.00"):
    """GMV facts: US on D1, DE (EUR, rate 1.10) on D2; tracking recompute suspended."""
    with tracking.suspended():
        records = [
            start_import(generic_file([(D1.isoformat(), "", "", "ordered_sales", us_amount, "USD")]),
                         "us.csv", w.us.id, w.hr),
            start_import(generic_file([(D2.isoformat(), "", "", "ordered_sales", de_amount, "EUR")]),
                         "de.csv", w.de.id, w.hr),
            start_import(b"date,currency,rate\n" + f"{D2.isoformat()},EUR,1.10\n".encode(), "fx.csv", None,
                         w.hr, kind="fx")]
    for record in records:
        assert record.status == "committed", (record.error, record.errors)
    return records


def company_objective(w, **values):
    objective = okr.create_objective({"title": "Grow European sales profitably", "level": "company",
                                      "owner_id": w.gm.id, "period": QUARTER, **values}, w.hr)
    db.session.commit()
    return objective


def gmv_kr(objective, actor, scope, target="3000", **values):
    kr = okr.create_key_result(objective, {"title": "GMV", "kind": "metric", "metric_key": "gmv",
                                           "scope": scope, "start_value": "0", "target": target,
                                           **values}, actor)
    db.session.commit()
    return kr


def monday(day=None):
    day = day or TODAY
    return day - timedelta(days=day.weekday())


__all__ = ["World", "make_world", "load_sales", "company_objective", "gmv_kr", "monday", "TODAY", "QUARTER",
           "Q_START", "Q_END", "D1", "D2", "date"]
