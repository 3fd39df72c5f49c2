"""Forms of the integrations and preferences pages (allowlists of what the browser may set)."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.validators import URL, DataRequired, Length, Optional

from kpiapp.models import Channel, ImMode
from kpiapp.models.notifications import IM_PLATFORMS

PLATFORM_LABELS = {Channel.dingtalk: _l("DingTalk"), Channel.feishu: _l("Feishu / Lark"),
                   Channel.wecom: _l("WeCom")}
MODE_LABELS = {ImMode.robot: _l("Group robot (webhook)"), ImMode.app: _l("App (messages to a person)")}


class ImChannelForm(FlaskForm):
    platform = SelectField(_l("Platform"), choices=[(p.value, PLATFORM_LABELS[p]) for p in IM_PLATFORMS])
    mode = SelectField(_l("Kind"), choices=[(m.value, MODE_LABELS[m]) for m in ImMode])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=80)])
    # secrets: never rendered back; left empty on edit = keep the stored value
    webhook_url = PasswordField(_l("Webhook URL"), validators=[Optional(), URL(require_tld=False), Length(max=500)])
    secret = PasswordField(_l("Signing secret"), validators=[Optional(), Length(max=200)])
    app_id = StringField(_l("App key / app id / corp id"), validators=[Optional(), Length(max=120)])
    app_secret = PasswordField(_l("App secret"), validators=[Optional(), Length(max=200)])
    agent_id = StringField(_l("Agent id"), validators=[Optional(), Length(max=40)])
    api_base = StringField(_l("API host (optional, e.g. https://open.larksuite.com)"),
                           validators=[Optional(), URL(require_tld=False), Length(max=200)])
    enabled = BooleanField(_l("Enabled"), default=True)


class PreferencesForm(FlaskForm):
    """Only the CSRF token and the digest: the channel checkboxes are read by name
    ("<group>:<channel>") and checked against the known groups and channels."""

    digest = SelectField(_l("E-mail digest"), choices=[("none", _l("No digest: one e-mail per event")),
                                                      ("daily", _l("Daily digest")),
                                                      ("weekly", _l("Weekly digest"))])
