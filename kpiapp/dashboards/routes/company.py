"""The company dashboard (docs/dashboards.md, "The company dashboard") and HR's public-panels form."""
from dataclasses import replace

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from kpiapp import policy
from kpiapp.dashboards import company as queries
from kpiapp.dashboards import services
from kpiapp.dashboards.memo import data_token, remember
from kpiapp.dashboards.routes import common
from kpiapp.dashboards.routes.common import bp
from kpiapp.extensions import db
from kpiapp.policy import STAFF, allow
from kpiapp.tracking.services import utc_today
from kpiapp.web.kept_pages import kept_page


@bp.route("/company")
@allow(STAFF)
@kept_page()
def company():
    """Every panel for those who see the company's figures; the public ones for other staff.
    The panels come from the memo (memo.py) while the data token is unchanged."""
    token = data_token()
    public = public_panels(token)
    keys = policy.company_panels_for(current_user, queries.PANELS, public)
    if not keys:
        abort(404)
    filters, offered, cycle = common.read_filters(token)
    today = utc_today()
    inputs = (queries.NAME, *common.memo_inputs(filters, cycle, today), tuple(keys))
    panels = remember(token, inputs, lambda: queries.company_panels(filters, cycle, keys, today))
    more = (url_for("dashboards.company_stores", **filters.query()), _("All stores"))
    panels = [replace(p, more=more) if p.key == "stores" else p for p in panels]  # the memo's stay as built
    can_publish = policy.can_publish_company_panels(current_user)
    return common.render_dashboard(queries.NAME, panels, filters, token=token, inputs=inputs,
                                   tail="dashboards/_company_publish.html" if can_publish else None,
                                   offered=offered, cycle=cycle, months=common.months_of(cycle),
                                   public=public, can_publish=can_publish)


@bp.route("/company/stores")
@allow(STAFF)
@kept_page()
def company_stores():
    """Every store's row of the store panel, 50 a page by store code (keyset: `?after=<code>`);
    a download gives every store. For whoever sees the company dashboard's store panel."""
    token = data_token()
    public = public_panels(token)
    if "stores" not in policy.company_panels_for(current_user, queries.PANELS, public):
        abort(404)
    filters, offered, cycle = common.read_filters(token)
    everything = bool(request.args.get("download"))
    after = None if everything else (request.args.get("after") or "").strip()[:100] or None
    limit = None if everything else queries.STORE_PAGE
    today = utc_today()
    inputs = ("company_stores", *common.memo_inputs(filters, cycle, today), after, limit)
    panel, next_after = remember(token, inputs,
                                 lambda: queries.all_stores(filters, cycle, after, limit, today))
    return common.render_dashboard("company_stores", [panel], filters, token=token, inputs=inputs,
                                   offered=offered, cycle=cycle, months=common.months_of(cycle),
                                   after=after, next_after=next_after)


def public_panels(token):
    """The panels HR made public (a frozenset: kept in the memo under the token, shared)."""
    return remember(token, ("public", queries.NAME), lambda: frozenset(services.public_panels(queries.NAME)))


@bp.route("/company/public", methods=["POST"])
@allow("appraisal.manage")
def company_public():
    """HR marks which panels every staff member sees (the checked ones) and which not."""
    if not policy.can_publish_company_panels(current_user):
        abort(404)
    wanted = set(request.form.getlist("panel"))
    changed = [services.set_public(queries.NAME, key, key in wanted, current_user) for key in queries.PANELS]
    db.session.commit()
    if any(changed):
        flash(_("Saved: these panels are shown to every staff member."), "success")
    else:
        flash(_("Nothing changed."), "success")
    return redirect(url_for("dashboards.company"))
