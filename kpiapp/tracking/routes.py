"""The provenance page: one scorecard item's number, down to its fact rows (docs/tracking.md).

Views load (404 for anyone who may not view the scorecard), query, render (STYLE.md).
"""
from flask import Blueprint, abort, current_app, request
from flask_babel import gettext as _

from kpiapp import presentation
from kpiapp.extensions import db
from kpiapp.models import ScorecardItem
from kpiapp.parsers.measures import BASE_MEASURES
from kpiapp.policy import SIGNED_IN, allow, authorize
from kpiapp.tracking import provenance
from kpiapp.tracking.services import reason_text
from kpiapp.web.pages import render_page_or_fragment, ui_lang

bp = Blueprint("provenance", __name__)


@bp.route("/items/<int:item_id>")
@allow(SIGNED_IN)
def item(item_id):
    found_item = db.session.get(ScorecardItem, item_id)
    authorize("scorecard.view", found_item.scorecard if found_item is not None else None)
    found = provenance.item_provenance(found_item)
    if found is None:
        abort(404)  # a manual item has no data behind it
    rows, next_after = provenance.fact_page(found, after=request.args.get("after", type=int))
    rates, next_rates = provenance.rate_page(found, request.args.get("rates_from", 0, type=int))
    return render_page_or_fragment(
        "provenance/item.html", "provenance/_rows.html", found=found, card=found_item.scorecard,
        rows=rows, next_after=next_after, rates=rates, next_rates=next_rates,
        paged=request.args.get("after") is not None, reason=reason_text(found.stored.get("reason")),
        measure_name=measure_name, measure_value=measure_value, definition_name=definition_name,
        store_codes={store.id: store.code for store, _share in found.stores},
        base=current_app.config["BASE_CURRENCY"])


def measure_name(key):
    measure = BASE_MEASURES.get(key)
    if measure is None:
        return key
    return measure.name_zh if ui_lang() == "zh_CN" else measure.name_en


def measure_value(key, value, currency=None):
    """A measure's value in its unit; money in `currency` (the base currency by default)."""
    measure = BASE_MEASURES.get(key)
    unit = measure.unit if measure is not None else None
    return presentation.in_unit(value, unit, ui_lang(), currency or current_app.config["BASE_CURRENCY"])


def definition_name(definition):
    if definition is None:
        return _("Unknown metric")
    return definition.name_zh if ui_lang() == "zh_CN" else definition.name_en
