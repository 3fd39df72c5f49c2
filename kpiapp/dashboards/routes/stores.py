"""The store dashboard pages (docs/dashboards.md "Store"): the stores list and one store."""
from flask import current_app, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from kpiapp.dashboards import stores as queries
from kpiapp.dashboards.memo import data_token, remember
from kpiapp.dashboards.routes import common
from kpiapp.dashboards.routes.common import bp
from kpiapp.extensions import db
from kpiapp.models import Store
from kpiapp.policy import STAFF, allow, authorize
from kpiapp.tracking.services import utc_today
from kpiapp.web.kept_pages import kept_page
from kpiapp.web.pages import ui_lang


def labels():
    """The words of the store panels (stores.LABEL_KEYS), in the page's language."""
    return {
        "summary": _("Figures for the period"), "sales": _("Sales (GMV)"), "traffic": _("Units and sessions"),
        "rates": _("Conversion, advertising, refunds and stock"), "owners": _("Owners and their targets"),
        "stores": _("Stores"), "metric": _("Metric"), "period_value": _("This period"),
        "cycle_value": _("Whole cycle"), "missing": _("No data for"), "bucket": _("Period"),
        "owner": _("Owner"), "share": _("Share"), "target": _("Target"), "owner_actual": _("Owner's actual"),
        "implied": _("Implied store target"), "store_actual": _("Store actual (cycle)"), "store": _("Store"),
        "name": _("Name"), "platform": _("Platform"), "currency": _("Currency"), "latest": _("Latest data"),
        "axis_money": _("Amount (%(currency)s)"), "axis_count": _("Count"), "axis_fraction": _("Rate"),
        "owners_note": _("Targets are for the whole cycle and for the owner's share. The implied store "
                         "target is the target divided by the share for sales, units and sessions, the "
                         "target itself for a rate; it is shown only when the item is measured on this "
                         "store alone."),
    }


@bp.route("/stores")
@allow(STAFF)
@kept_page()
def stores():
    """The stores the reader may see, a page at a time, with the period's headline figures.
    The memo keeps the page per reader and role (what they may see) while the data is unchanged."""
    token = data_token()
    filters, offered, cycle = common.read_filters(token)
    user = current_user._get_current_object()
    after = request.args.get("after", "").strip() or None
    # the raw `after`: the fragment's pager reads request.args.after
    inputs = ("stores", *common.memo_inputs(filters, cycle, utc_today()), request.args.get("after"),
              user.id, user.role)
    panels, next_after = [], None
    if cycle is not None:
        panel, next_after = remember(token, inputs, lambda: store_list(user, filters, cycle, after))
        panels = [panel]
    return common.render_dashboard("stores", panels, filters, token=token, inputs=inputs, offered=offered,
                                   cycle=cycle, months=common.months_of(cycle), next_after=next_after,
                                   base=current_app.config["BASE_CURRENCY"])


def store_list(user, filters, cycle, after):
    """(the stores panel with its links, next_after)."""
    panel, shown, next_after = queries.store_list(user, filters, filters.date_range(cycle), after, ui_lang(),
                                                  labels(), current_app.config["BASE_CURRENCY"])
    kept = filters.query(store=None, platform=None)
    panel.links = {i: url_for("dashboards.store", store_id=s.id, **kept) for i, s in enumerate(shown)}
    return panel, next_after


@bp.route("/stores/<int:store_id>")
@allow(STAFF)
def store(store_id):
    """One store's metrics over time against its owners' targets (404 unless visible). The memo
    keeps the page per store, reader and role (the owners' panel shows the items they may see);
    not the whole page: its heading's connection badge follows the clock (kept_pages.py)."""
    token = data_token()  # first (memo.py): before the store and the rights are read
    store = authorize("store.view", db.session.get(Store, store_id))
    filters, offered, cycle = common.read_filters(token)
    user = current_user._get_current_object()
    inputs = ("store", store.id, *common.memo_inputs(filters, cycle, utc_today()), user.id, user.role)
    page = None
    if cycle is not None:
        page = remember(token, inputs, lambda: queries.store_page(
            store, cycle, filters.date_range(cycle), user, ui_lang(), labels(),
            current_app.config["BASE_CURRENCY"]))
    return common.render_dashboard("store", page.panels if page else [], filters, token=token, inputs=inputs,
                                   offered=offered, cycle=cycle, months=common.months_of(cycle), store=store,
                                   page=page, base=current_app.config["BASE_CURRENCY"])
