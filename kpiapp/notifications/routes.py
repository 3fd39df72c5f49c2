"""Pages: the admin's integrations (/admin/integrations) and everyone's notification
preferences (/settings/notifications)."""
from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from kpiapp import policy
from kpiapp.extensions import db
from kpiapp.models import Channel, ImChannel
from kpiapp.notifications import integrations, services
from kpiapp.notifications.forms import MODE_LABELS, PLATFORM_LABELS, ImChannelForm, PreferencesForm
from kpiapp.org.forms import ConfirmForm
from kpiapp.policy import SIGNED_IN, allow
from kpiapp.web.pages import render_page_or_fragment

bp = Blueprint("integrations", __name__)


@bp.route("/admin/integrations")
@allow("integrations.manage")
def index():
    return render_page_or_fragment("integrations/index.html", "integrations/_deliveries.html",
                                   channels=integrations.channel_rows(), deliveries=integrations.recent_deliveries(),
                                   failures=integrations.failures(), confirm=ConfirmForm(),
                                   platform_labels=PLATFORM_LABELS, mode_labels=MODE_LABELS)


@bp.route("/admin/integrations/new", methods=["GET", "POST"])
@bp.route("/admin/integrations/<int:channel_id>/edit", methods=["GET", "POST"])
@allow("integrations.manage")
def edit(channel_id=None):
    channel = ImChannel() if channel_id is None else db.session.get(ImChannel, channel_id) or abort(404)
    form = ImChannelForm(obj=channel if request.method == "GET" and channel_id else None)
    if form.validate_on_submit():
        try:
            integrations.save_channel(channel, form.data)
        except integrations.IntegrationError as error:
            db.session.rollback()
            form[error.field].errors.append(error.message)
        else:
            db.session.commit()
            flash(_("Channel saved."), "success")
            return redirect(url_for(".index"))
    return render_page_or_fragment("integrations/edit.html", "integrations/edit.html", form=form, channel=channel)


@bp.route("/admin/integrations/test", methods=["POST"])
@allow("integrations.manage")
def test_send():
    form = ConfirmForm()
    platform = request.form.get("platform", "")
    channel_id = request.form.get("channel_id", type=int)
    if not form.validate() or platform not in {c.value for c in Channel} or platform == Channel.email:
        abort(400)
    if channel_id is not None and db.session.get(ImChannel, channel_id) is None:
        abort(404)
    try:
        integrations.test_send(current_user, platform, channel_id)
    except integrations.IntegrationError as error:
        flash(error.message, "error")
        return redirect(url_for(".index"))
    db.session.commit()
    flash(_("Test message queued; its delivery shows below."), "success")
    return redirect(url_for(".index"))


@bp.route("/settings/notifications", methods=["GET", "POST"])
@allow(SIGNED_IN)
def preferences():
    if not policy.can_edit_notification_preferences(current_user, current_user):
        abort(404)
    rows, digest = services.preference_table(current_user)
    form = PreferencesForm(digest=digest.value)
    if form.validate_on_submit():
        chosen = {group: [c.value for c in Channel if f"{group}:{c.value}" in request.form] for group, _l, _c in rows}
        services.save_preferences(current_user, chosen, form.digest.data)
        db.session.commit()
        flash(_("Notification settings saved."), "success")
        return redirect(url_for(".preferences"))
    return render_page_or_fragment("settings/notifications.html", "settings/notifications.html", form=form,
                                   rows=rows, channels=list(Channel), platform_labels=PLATFORM_LABELS,
                                   available=services.available_channels())
