"""The company dashboard (docs/dashboards.md, "The company dashboard") and HR's public-panels form."""
from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from kpiapp import policy
from kpiapp.dashboards import company as queries
from kpiapp.dashboards import services
from kpiapp.dashboards.routes import common
from kpiapp.dashboards.routes.common import bp
from kpiapp.extensions import db
from kpiapp.policy import STAFF, allow


@bp.route("/company")
@allow(STAFF)
def company():
    """Every panel for those who see the company's figures; the public ones for other staff."""
    public = services.public_panels(queries.NAME)
    keys = policy.company_panels_for(current_user, queries.PANELS, public)
    if not keys:
        abort(404)
    filters, offered, cycle = common.read_filters()
    panels = queries.company_panels(filters, cycle, keys)
    for p in panels:
        if p.key == "stores":
            p.more = (url_for("dashboards.company_stores", **filters.query()), _("All stores"))
    return common.render_dashboard(queries.NAME, panels, filters, offered=offered, cycle=cycle,
                                   months=common.months_of(cycle), public=public,
                                   can_publish=policy.can_publish_company_panels(current_user))


@bp.route("/company/stores")
@allow(STAFF)
def company_stores():
    """Every store's row of the store panel, 50 a page by store code (keyset: `?after=<code>`);
    a download gives every store. For whoever sees the company dashboard's store panel."""
    public = services.public_panels(queries.NAME)
    if "stores" not in policy.company_panels_for(current_user, queries.PANELS, public):
        abort(404)
    filters, offered, cycle = common.read_filters()
    everything = bool(request.args.get("download"))
    after = None if everything else (request.args.get("after") or "").strip()[:100] or None
    limit = None if everything else queries.STORE_PAGE
    panel, next_after = queries.all_stores(filters, cycle, after, limit)
    return common.render_dashboard("company_stores", [panel], filters, offered=offered, cycle=cycle,
                                   months=common.months_of(cycle), after=after, next_after=next_after)


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
