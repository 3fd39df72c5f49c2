"""The company dashboard's figures follow every change under them: the picked rows it reads
(fact_pick, kept between requests on PostgreSQL) are replaced with the facts, so after an
import, a changed FX rate and a recompute each panel still equals the Python computation
(tests/web/test_dashboard_sums.py) and shows the new figure."""
from datetime import date
from decimal import Decimal

from flask import current_app
from sqlalchemy import select, update

from kpiapp.dashboards import company
from kpiapp.extensions import db
from kpiapp.imports.services import start_import
from kpiapp.models import FxRate, ImportStatus, Role, User
from kpiapp.tracking.services import recompute_cycle
from tests.imports.files import generic_file
from tests.web.test_dashboard_sums import TODAY, assert_same_as_python, generated_org, panels_of


def store_row(o, code):
    """(the all-stores row of `code`, the company panels)."""
    data, found = panels_of(o)
    with current_app.test_request_context():
        every, _next = company.all_stores(data.filters, data.cycle, today=TODAY)
    return next(row for row in every.rows if row["store"] == code), found


def test_an_import_a_rate_and_a_recompute_show_on_the_page_at_once(app):
    o = generated_org(seed=5)
    assert_same_as_python(o)
    us2, found = store_row(o, "GEN-US2")
    sales = {row["week"]: row["actual"] for row in found["trend_sales"].rows}
    hr = db.session.execute(select(User).where(User.role == Role.hr)).scalars().first()
    # an import of a day without data yet (11-26, after the last day seeded)
    record = start_import(generic_file([("2026-11-26", "GEN-US2", "", "ordered_sales", "1000.00", "USD")]),
                          "late.csv", None, hr)
    assert record.status == ImportStatus.committed, record.error
    assert_same_as_python(o)
    after, found = store_row(o, "GEN-US2")
    assert after["gmv"] == us2["gmv"] + Decimal("1000.00")
    assert {row["week"]: row["actual"] for row in found["trend_sales"].rows}["2026-11-23"] \
        == sales["2026-11-23"] + Decimal("1000.00")

    uk, _found = store_row(o, "GEN-UK")
    db.session.execute(update(FxRate).where(FxRate.currency == "GBP", FxRate.date == date(2026, 10, 6))
                       .values(rate=FxRate.rate + 1))
    db.session.commit()
    assert_same_as_python(o)
    assert store_row(o, "GEN-UK")[0]["gmv"] > uk["gmv"]

    _data, found = panels_of(o)
    before = found["stores"].rows
    card = o.team.card(o.team.people[3])  # an item without data yet: the recompute gives it points
    assert all(item.computed_points is None for item in card.items)
    recompute_cycle(o.team.cycle.id, today=TODAY)
    found = assert_same_as_python(o)
    assert found["stores"].rows != before
