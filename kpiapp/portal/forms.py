from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, EqualTo, Length

from kpiapp.forms import strip

LANGUAGE_CHOICES = [("en", "English"), ("zh_CN", "中文")]


class InviteForm(FlaskForm):
    email = StringField(_l("E-mail"), validators=[DataRequired(), Length(max=254)], filters=[strip])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)], filters=[strip])
    locale = SelectField(_l("Language"), choices=LANGUAGE_CHOICES, validators=[DataRequired()])


class AcceptInviteForm(FlaskForm):
    name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=120)], filters=[strip])
    locale = SelectField(_l("Language"), choices=LANGUAGE_CHOICES, validators=[DataRequired()])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)])
    confirm = PasswordField(_l("Repeat the password"),
                            validators=[DataRequired(), EqualTo("password", message=_l("The passwords do not match."))])


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=2000)], filters=[strip])


class DisputeForm(FlaskForm):
    clause_id = SelectField(_l("Clause"), coerce=int, validators=[DataRequired()])
    comment = TextAreaField(_l("What is wrong, in your words"), validators=[DataRequired(), Length(max=4000)],
                            filters=[strip])
