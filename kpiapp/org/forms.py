from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DecimalField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from kpiapp.models import Platform, Role


def id_choices(items, label, blank=True):
    choices = [(0, "—")] if blank else []
    return choices + [(item.id, label(item)) for item in items]


def stripped(text):
    return text.strip() if isinstance(text, str) else text


IM_ID_MESSAGE = _l("An IM id is at most 64 characters, without spaces.")
IM_ID_RULES = [Optional(), Length(max=64, message=IM_ID_MESSAGE), Regexp(r"^\S*$", message=IM_ID_MESSAGE)]


class PersonForm(FlaskForm):
    """Only these fields can be set from the browser (allowlist, SECURITY.md Z4)."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    email = StringField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    department_id = SelectField(_l("Department"), coerce=int)
    position_id = SelectField(_l("Position"), coerce=int)
    manager_id = SelectField(_l("Manager"), coerce=int)
    role = SelectField(_l("Role"), choices=[(r.value, r.value) for r in Role])  # labels set in the view
    locale = SelectField(_l("Language"), choices=[("", "—"), ("en", "English"), ("zh_CN", "简体中文")])
    active = BooleanField(_l("Active"), default=True)
    new_password = PasswordField(_l("Set a new password (optional)"), validators=[Optional(), Length(max=256)])
    # the person's IM ids, for notifications sent to them directly (docs/notifications.md)
    dingtalk_id = StringField(_l("DingTalk user id"), validators=IM_ID_RULES, filters=[stripped])
    feishu_id = StringField(_l("Feishu user id"), validators=IM_ID_RULES, filters=[stripped])
    wecom_id = StringField(_l("WeCom user id"), validators=IM_ID_RULES, filters=[stripped])


class DepartmentForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    parent_id = SelectField(_l("Part of"), coerce=int)


class PositionForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=120)])


class StoreForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=32)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=160)])
    platform = SelectField(_l("Platform"), choices=[(p.value, p.value) for p in Platform])
    marketplace = StringField(_l("Marketplace"), validators=[DataRequired(), Length(min=2, max=8)])
    currency = StringField(_l("Currency"), validators=[DataRequired(), Length(min=3, max=3)])
    timezone = StringField(_l("Time zone"), validators=[DataRequired(), Length(max=64)])
    # a client's store that the agency operates (docs/contracts.md); 0: one of our own stores
    client_company_id = SelectField(_l("Client company (a store we operate for a client)"), coerce=int)
    active = BooleanField(_l("Active"), default=True)


class StoreOwnerForm(FlaskForm):
    person_id = SelectField(_l("Person"), coerce=int)
    share_pct = DecimalField(_l("Share %"), places=2,
                             validators=[DataRequired(), NumberRange(min=0.01, max=100)])


class UploadForm(FlaskForm):
    file = FileField(_l("CSV or XLSX file"), validators=[FileRequired()])


class ConfirmForm(FlaskForm):
    """A bare form: CSRF only, for buttons that post."""
