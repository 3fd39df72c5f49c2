"""Forms of the agency's contract pages. Only declared inputs are read (SECURITY.md Z4); the
types are checked here, everything else by kpiapp.contracts.terms, whose refusals name the
input (`TermsError.field`) so the page marks it and keeps what was typed."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import FieldList, Form, FormField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from kpiapp.forms import DateInputField, NumberField, strip

REQUIRED = _l("Please fill this in.")


def text(label, limit, required=False):
    first = DataRequired(message=REQUIRED) if required else Optional()
    return StringField(label, filters=[strip], validators=[first, Length(max=limit)])


def long_text(label, limit=4000, required=False):
    first = DataRequired(message=REQUIRED) if required else Optional()
    return TextAreaField(label, filters=[strip], validators=[first, Length(max=limit)])


def number(label):
    return NumberField(label, validators=[Optional()])


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ContractForm(FlaskForm):
    code = text(_l("Code"), 32, required=True)
    title = text(_l("Title"), 200, required=True)
    client_company_id = SelectField(_l("Client company"), coerce=int, validate_choice=False)
    new_client = text(_l("Or a new client company"), 160)
    period = SelectField(_l("Reporting period"), choices=[("monthly", _l("monthly")), ("quarterly", _l("quarterly"))])
    start_date = DateInputField(_l("Start"), validators=[DataRequired(message=REQUIRED)])
    end_date = DateInputField(_l("End"), validators=[DataRequired(message=REQUIRED)])
    lead_id = SelectField(_l("Account lead"), coerce=int, validate_choice=False)


class TeamForm(FlaskForm):
    lead_id = SelectField(_l("Account lead"), coerce=int, validate_choice=False)
    member_ids = CheckboxesField(_l("Account team"), coerce=int, validate_choice=False)


class StoresForm(FlaskForm):
    store_ids = CheckboxesField(_l("Stores covered"), coerce=int, validate_choice=False)


class BandForm(Form):
    lower = number(_l("Score from"))
    upper = number(_l("below"))
    adjust_pct = number(_l("Adjustment %"))


class FeeForm(FlaskForm):
    base_fee = NumberField(_l("Base service fee"), validators=[DataRequired(message=REQUIRED)])
    commission_pct = number(_l("Commission %"))
    commission_metric = SelectField(_l("Commission on"), validate_choice=False)
    fee_bands = FieldList(FormField(BandForm), min_entries=4, max_entries=8)
    bonus_threshold = number(_l("Bonus from score"))
    bonus_amount = number(_l("Bonus amount"))


class ClauseForm(FlaskForm):
    name = text(_l("Clause"), 160, required=True)
    kind = SelectField(_l("Kind"), choices=[("metric", _l("from data")), ("manual", _l("manual"))])
    metric_key = SelectField(_l("Metric"), validate_choice=False)
    weight = NumberField(_l("Weight"), validators=[DataRequired(message=REQUIRED)])
    rule_kind = SelectField(_l("Rule"), choices=[("linear", _l("linear")), ("pass_fail", _l("pass/fail"))])
    threshold = number(_l("Threshold"))
    target = number(_l("Target"))
    stretch = number(_l("Stretch"))
    cap = number(_l("Cap"))
    scale_max = number(_l("Scale (manual)"))
    store_ids = CheckboxesField(_l("Stores (none ticked: all the contract's stores)"), coerce=int,
                                validate_choice=False)
    sku = text(_l("SKU (optional)"), 64)
    description = long_text(_l("Description"), 2000)


class AmendmentForm(FlaskForm):
    summary = long_text(_l("What the amendment changes"))
    effective_from = SelectField(_l("In force from"), validate_choice=False)


class ConfirmForm(FlaskForm):
    """CSRF only: the step buttons."""


class OverrideForm(FlaskForm):
    clause_id = SelectField(_l("Clause"), coerce=int, validate_choice=False)
    value = NumberField(_l("Value"), validators=[DataRequired(message=REQUIRED)])
    reason = long_text(_l("Reason (shown to the client)"), 2000, required=True)


class NoteForm(FlaskForm):
    internal_note = long_text(_l("Internal note"), 4000)


class AnswerForm(FlaskForm):
    clause_id = SelectField(_l("Clause"), coerce=int, validate_choice=False)
    comment = long_text(_l("Answer"), 2000, required=True)


class GenerateForm(FlaskForm):
    period_start = SelectField(_l("Period"), validate_choice=False)
