"""The connect/edit form of one platform, built from its connector's fields.

Credentials are PasswordFields: never rendered back (WTForms hides their value), an empty
one keeps the stored value (connectors.services.connect)."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, PasswordField, SelectMultipleField, StringField
from wtforms.validators import Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from kpiapp.connectors import services


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ConnectionForm(FlaskForm):
    kinds = CheckboxesField(_l("Data to pull"))
    every_minutes = IntegerField(_l("Pull every (minutes)"), validators=[NumberRange(15, 10080)], default=360)
    freshness_hours = IntegerField(_l("Flag the data as stale after (hours)"), validators=[NumberRange(1, 720)],
                                   default=36)


def connection_form(cls, connection=None, formdata=None):
    """A ConnectionForm with one field per setting (s_NAME) and per credential (c_NAME) of `cls`."""

    class Form(ConnectionForm):
        pass

    for name in cls.setting_fields:
        setattr(Form, f"s_{name}", StringField(services.field_words(name), validators=[Optional(), Length(max=300)]))
    for name in cls.credential_fields:
        setattr(Form, f"c_{name}", PasswordField(services.field_words(name),
                                                  validators=[Optional(), Length(max=4000)]))
    form = Form(formdata=formdata) if formdata is not None else Form()
    form.kinds.choices = [(str(k), services.kind_words(k)) for k in cls.kinds]
    if not form.is_submitted():
        fill(form, cls, connection)
    return form


def fill(form, cls, connection):
    if connection is None:
        form.kinds.data = [str(k) for k in cls.kinds]
        return
    form.kinds.data = list(connection.kinds or [])
    form.every_minutes.data, form.freshness_hours.data = connection.every_minutes, connection.freshness_hours
    for name in cls.setting_fields:
        form[f"s_{name}"].data = (connection.settings or {}).get(name, "")


def setting_fields(form, cls):
    return [form[f"s_{name}"] for name in cls.setting_fields]


def credential_fields(form, cls):
    return [(name, form[f"c_{name}"]) for name in cls.credential_fields]


def submitted(form, cls):
    """(settings, credentials) from the posted form; empty credentials are left out."""
    settings = {name: (form[f"s_{name}"].data or "").strip() for name in cls.setting_fields}
    credentials = {name: form[f"c_{name}"].data.strip() for name in cls.credential_fields
                   if (form[f"c_{name}"].data or "").strip()}
    return settings, credentials
