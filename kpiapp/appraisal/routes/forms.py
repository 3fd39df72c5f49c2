"""Forms of the scorecard screens. Per-item inputs keep the names items-<item id>-<field>: each
scorecard gets a form class with one sub-form per item, built from the item (a manual item's
score is on its own scale). Only declared inputs are read (the allowlist of SECURITY.md Z4)."""

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import BooleanField, FieldList, Form, FormField, HiddenField, IntegerField, SelectField
from wtforms import SelectMultipleField, StringField, TextAreaField
from wtforms.fields.core import UnboundField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from kpiapp.appraisal.routes.common import metric_unit
from kpiapp.reminders import rules as reminder_rules
from kpiapp.forms import DateInputField, NumberField, UnitNumberField, leaf_fields, posted, strip, strip_or_none

TEXT_MAX = 5000  # a long review comment fits; a pasted book does not
REASON_MAX = 2000
DEFAULT_CAP = Decimal(120)  # the services' ceiling for points without a cap of their own


def plain_decimal(value):
    return Decimal(f"{Decimal(value).normalize():f}")  # 5, not 5.000000 or 1E+2, in max="…"


def between(low, high):
    low, high = plain_decimal(low), plain_decimal(high)
    message = _l("Enter a number from %(min)s to %(max)s.", min=low, max=high)
    return NumberRange(min=low, max=high, message=message)


def number(label, *validators):
    return NumberField(label, validators=[Optional(), *validators])


def text(label, limit=TEXT_MAX, required=False):
    first = DataRequired(message=_l("Please fill this in.")) if required else Optional()
    return StringField(label, filters=[strip], validators=[first, Length(max=limit)])


def long_text(label):
    return TextAreaField(label, filters=[strip], validators=[Optional(), Length(max=TEXT_MAX)])


class CardForm(FlaskForm):
    """What every scorecard form carries: the version the user saw and the screen it came from."""

    expected_version = IntegerField(validators=[Optional()])
    view = HiddenField()


class ActionForm(CardForm):
    reason = text(_l("Reason"), REASON_MAX)


class SelfReviewForm(CardForm):
    self_comment = long_text(_l("Overall comment"))


class ManagerReviewForm(CardForm):
    manager_comment = long_text(_l("Overall comment"))


class TargetsForm(CardForm):
    pass


class ChangeRequestForm(CardForm):
    reason = text(_l("Why the change?"), REASON_MAX, required=True)


class DecideChangeForm(CardForm):
    decision = StringField()
    reason = text(_l("Reason"), REASON_MAX)


class CalibrateForm(CardForm):
    grade = SelectField(_l("Grade"), validate_choice=False)  # the service refuses unknown grades
    reason = text(_l("Reason"), REASON_MAX, required=True)

    def prepare(self, card):
        self.grade.choices = [(row["grade"], row["grade"]) for row in card.cycle.grade_table]


class AcknowledgeForm(CardForm):
    objection = BooleanField(_l("I object to this result"))
    comment = TextAreaField(_l("Comment (required when objecting)"), filters=[strip],
                            validators=[Optional(), Length(max=TEXT_MAX)])


class AppealForm(CardForm):
    """One step on an appeal: the reply (answer), a note (close) or why (reopen)."""

    text = long_text(_l("Your text"))


class DisputeForm(FlaskForm):
    """One step on a data dispute: the comment (raise), the reason (correct, reject, lock
    override) or a note (close); a correction names a committed import or a value."""

    text = TextAreaField(_l("Your text"), filters=[strip], validators=[Optional(), Length(max=REASON_MAX)])
    import_id = IntegerField(_l("Corrected by import"), validators=[Optional()])
    value = number(_l("Corrected value"))


# ---- per-item inputs --------------------------------------------------------------------

def scale_max(item):
    return Decimal(str((item.rule or {}).get("scale_max") or 5))


def cap(item):
    return Decimal(str((item.rule or {}).get("cap") or DEFAULT_CAP))


LIMIT_LABELS = (("threshold", _l("Threshold")), ("target", _l("Target")), ("stretch", _l("Stretch")))


def limit(label, unit):
    """A threshold, target or stretch, typed in its metric's unit (a percent metric in percent)."""
    return UnitNumberField(label, validators=[Optional()], unit=unit)


def target_inputs(item):
    inputs = {"weight": number(_l("Weight"), between(0, 100))}
    if not item.is_manual:  # a manual item is scored on its scale; it has no target
        unit = metric_unit(item)
        inputs.update({name: limit(label, unit) for name, label in LIMIT_LABELS})
    return inputs


def self_review_inputs(item):
    inputs = {}
    if item.is_manual:  # data items are scored from the data, not by their owner
        inputs["self_score"] = number(_l("Self score"), between(0, scale_max(item)))
    return {**inputs, "self_comment": text(_l("Comment"))}


def manager_review_inputs(item):
    high = scale_max(item) if item.is_manual else cap(item)  # a data item's score is points
    inputs = {"manager_score": number(_l("Your score"), between(0, high)),
              "manager_comment": text(_l("Comment"))}
    if not item.is_manual:
        inputs["override_reason"] = text(_l("Override reason"), REASON_MAX)
    return inputs


ITEM_INPUTS = {
    TargetsForm: target_inputs,
    ChangeRequestForm: target_inputs,
    SelfReviewForm: self_review_inputs,
    ManagerReviewForm: manager_review_inputs,
}


def build(form_class, card, post=False, typed=None):
    """A form for this scorecard filled from the card, and with `post` from the request's form
    (or `typed`, {input name: text}, e.g. a draft's). Inputs absent from the post keep the card's
    values and are not sent to the service."""
    data = {name: getattr(card, name, None) for name, value in vars(form_class).items()
            if isinstance(value, UnboundField)}
    data["expected_version"] = card.version_id
    inputs_of = ITEM_INPUTS.get(form_class)
    if inputs_of is not None:
        form_class, data["items"] = with_items(form_class, card.items, inputs_of)
    form = form_class(formdata=MultiDict(typed), data=data) if typed is not None else bind(form_class, data, post)
    if hasattr(form, "prepare"):
        form.prepare(card)
    return form


def with_items(form_class, items, inputs_of):
    """A subclass of `form_class` with one sub-form per item (inputs items-<id>-<field>), and its values."""
    sub_forms, values = {}, {}
    for item in items:
        inputs = inputs_of(item)
        sub_forms[str(item.id)] = FormField(type(f"Item{item.id}Form", (Form,), inputs))
        values[str(item.id)] = {name: getattr(item, name) for name in inputs}
    items_form = FormField(type("ItemsForm", (Form,), sub_forms))
    return type(form_class.__name__, (form_class,), {"items": items_form}), values


def bind(form_class, data, post):
    """Filled from `data`; with `post`, the request's form overrides what it carries."""
    return form_class(data=data) if post else form_class(formdata=None, data=data)


def item_changes(form):
    """{item_id: {field: value}} of the per-item inputs that were posted ('' becomes None)."""
    changes = {}
    for sub in form.items:
        values = {name: strip_or_none(value) for name, value in posted(sub.form).items()}
        if values:
            changes[int(sub.short_name)] = values
    return changes


def input_of(form, name, item_id=None):
    """The form's input `name` (of item `item_id` if given), or None when the form has none."""
    if item_id is None:
        return form._fields.get(name)
    sub = form.items.form._fields.get(str(item_id)) if "items" in form else None
    return sub.form._fields.get(name) if sub is not None else None


NOT_TYPED = ("csrf_token", "expected_version", "view")


def typed_values(form):
    """{input name: text} of what was typed into the form's declared inputs (a draft's payload)."""
    return {f.name: f.raw_data[0] for f in leaf_fields(form)
            if f.raw_data and f.name not in NOT_TYPED and isinstance(f.raw_data[0], str)}


def sent(field):
    """The posted value, or None when the input was not in the post (the service keeps the old one)."""
    return field.data if field.raw_data else None


# ---- cycles -----------------------------------------------------------------------------

GRADE_ROWS = 6
DEADLINES = ("targets_due", "approval_due", "self_review_due", "manager_review_due", "calibration_due")
REMINDERS = ("reminders_on", "remind_before", "remind_every", "escalate_after")


class GradeRowForm(Form):
    grade = StringField(_l("Grade"), filters=[strip], validators=[Optional(), Length(max=16)])
    min_score = number(_l("From score"), between(0, DEFAULT_CAP))
    max_share = number(_l("Quota"), between(0, 100))
    coefficient = number(_l("Bonus coefficient"), NumberRange(min=0, message=_l("Enter 0 or more.")))


def required_date(label):
    return DateInputField(label, validators=[DataRequired(message=_l("Please fill this in."))])


class PeriodInputs:
    """A new cycle's kind and period (fixed afterwards); declared first, as the page shows them."""

    kind = SelectField(_l("Kind"), choices=[("monthly", _l("monthly")), ("quarterly", _l("quarterly"))])
    period_start = required_date(_l("Period start"))
    period_end = required_date(_l("Period end"))


class CycleForm(FlaskForm):
    """Editing a cycle; the grade table and the HR switch count only while it is a draft."""

    name = text(_l("Name"), 120, required=True)
    targets_due = DateInputField(_l("Targets"), validators=[Optional()])
    approval_due = DateInputField(_l("Approval"), validators=[Optional()])
    self_review_due = DateInputField(_l("Self-review"), validators=[Optional()])
    manager_review_due = DateInputField(_l("Manager review"), validators=[Optional()])
    calibration_due = DateInputField(_l("Calibration"), validators=[Optional()])
    hr_approval_required = BooleanField(_l("Targets need HR approval after the manager"))
    okr_weight = NumberField(_l("OKR attainment weight"), validators=[Optional(), NumberRange(min=0.01, max=99.99)])
    reminders_on = BooleanField(_l("Send reminders by themselves"), default=True)
    remind_before = StringField(_l("Remind this many days before each deadline"), default="3,1",
                                filters=[strip], validators=[Length(max=32)],
                                description=_l("Whole numbers separated by commas, e.g. 3, 1"))
    remind_every = IntegerField(_l("Once overdue, remind again every (days)"),
                                validators=[Optional(), NumberRange(1, 30)], default=2)
    escalate_after = IntegerField(_l("Tell the manager after (days overdue)"),
                                  validators=[Optional(), NumberRange(1, 60)], default=3)
    department_id = SelectMultipleField(_l("Departments (with sub-departments)"), coerce=int)
    position_id = SelectMultipleField(_l("Positions"), coerce=int)
    person_id = SelectMultipleField(_l("People"), coerce=int)

    def deadlines(self):
        return {name: self[name].data for name in DEADLINES}

    def reminders(self):
        """The reminder settings as posted; None (keep them) when the form had no reminder fields."""
        if not self.remind_before.raw_data:
            return None
        return {name: self[name].data for name in REMINDERS if self[name].data is not None}

    def validate_remind_before(self, field):
        try:
            field.data = ",".join(str(d) for d in reminder_rules.parse_before(field.data))
        except reminder_rules.SettingsError:
            raise ValidationError(_l("Whole numbers from 1 to 60, separated by commas.")) from None

    def grade_table(self):
        """Grade rows with a grade, as the services store them (quota as a fraction)."""
        return [grade_row(sub.form) for sub in self["grade"] if sub.form.grade.data]

    def participants(self):
        kinds = ("department_id", "position_id", "person_id")
        return [{kind: chosen} for kind in kinds for chosen in self[kind].data]


class NewCycleForm(CycleForm, PeriodInputs):
    pass


def grade_row(row):
    share = row.max_share.data
    return {
        "grade": row.grade.data,
        "min_score": str(row.min_score.data) if row.min_score.data is not None else "",
        "max_share": str(share / 100) if share is not None else None,
        "coefficient": str(row.coefficient.data) if row.coefficient.data is not None else "1",
    }


def grade_values(table):
    """Form values of stored grade rows (the quota back in %), padded with blank rows."""
    rows = [{**row, "max_share": Decimal(row["max_share"]) * 100 if row.get("max_share") else None,
             "min_score": _decimal(row.get("min_score")), "coefficient": _decimal(row.get("coefficient"))}
            for row in table]
    return rows + [{}] * (GRADE_ROWS - len(rows))


def _decimal(value):
    return None if value in (None, "") else Decimal(str(value))


def cycle_form(cycle, choices, default_table, post=False):
    """The cycle form (new when `cycle` is None) with grade rows grade-1-… to grade-6-…."""
    base = CycleForm if cycle is not None else NewCycleForm
    rows = grade_values(cycle.grade_table if cycle is not None else default_table)
    grades = type("GradesForm", (Form,), {str(n): FormField(GradeRowForm) for n in range(1, len(rows) + 1)})
    form_class = type(base.__name__, (base,), {"grade": FormField(grades)})
    # a post carries every grade row the page shows: a row left out is an empty row
    data = {} if post else {"grade": {str(n): row for n, row in enumerate(rows, 1)}}
    if cycle is not None:
        names = ("name", "hr_approval_required", "okr_weight", *DEADLINES, *REMINDERS)
        data.update({name: getattr(cycle, name) for name in names})
    form = bind(form_class, data, post)
    for name, options in choices.items():
        form[name].choices = options
    return form


class CopyTemplateForm(FlaskForm):
    code = text(_l("Code"), 64, required=True)
    name = text(_l("Name"), 160)


class RemindForm(FlaskForm):
    """The scorecards to remind (checkboxes or hidden inputs) and the page to go back to. Any ids
    bind here: the view keeps the cycle's own, as mark_read keeps the user's own notifications."""

    scorecard_id = SelectMultipleField(coerce=int, validate_choice=False)
    stage = HiddenField()  # or everyone still owing a cycle-health stage (cycle_helpers.STAGES)
    back = HiddenField()


class LockForm(FlaskForm):
    """The scorecards the confirmation page listed, each as "<id>:<version seen>": only those
    are locked, and one changed since the page was shown is refused as a conflict."""

    card = SelectMultipleField(validate_choice=False)
    department_id = HiddenField()
    scorecard_id = HiddenField()


class MarkReadForm(FlaskForm):
    notification_id = SelectMultipleField(coerce=int, validate_choice=False)


# ---- KPI templates ----------------------------------------------------------------------

class TemplateRowForm(Form):
    """One item row of a template (items-<n>-<field>); a row without a name is dropped."""

    name = StringField(_l("Item"), filters=[strip], validators=[Optional(), Length(max=160)])
    kind = StringField(_l("Kind"), filters=[strip])  # anything but "manual" is an item from data
    metric_key = StringField(_l("Metric"), filters=[strip])
    tag = StringField(filters=[strip])
    weight = number(_l("Weight"), between(0, 100))
    rule_kind = StringField(_l("Rule"), filters=[strip])
    threshold = number(_l("Threshold"))
    target = number(_l("Target"))
    stretch = number(_l("Stretch"))
    cap = number(_l("Cap / scale"), NumberRange(min=0, message=_l("Enter 0 or more.")))
    scale_max = number(_l("Cap / scale"), NumberRange(min=0, message=_l("Enter 0 or more.")))
    direction = HiddenField(filters=[strip])
    description = HiddenField(filters=[strip])
    bands = HiddenField(filters=[strip])


class TemplateForm(FlaskForm):
    name = text(_l("Name"), 160, required=True)
    description = long_text(_l("Description"))
    items = FieldList(FormField(TemplateRowForm))


class NewTemplateForm(TemplateForm):
    code = text(_l("Code"), 64, required=True)
    position_id = SelectField(_l("Position"), coerce=int, default=0)


def template_form(template, rows, positions, post=False):
    """The template form (new when `template` is None); `rows` fill the item rows on a GET."""
    form_class = TemplateForm if template is not None else NewTemplateForm
    data = {"items": rows}
    if template is not None:
        data.update(name=template.name, description=template.description)
    form = bind(form_class, data, post)
    if template is None:
        form.position_id.choices = [(0, "—"), *((p.id, p.title) for p in positions)]
    return form


def template_rows(form):
    """The named item rows as posted: {field: value}, numbers as Decimals."""
    return [entry.form.data for entry in form.items if entry.form.name.data]


def weights_valid(form):
    """False when a weight that was typed is not a number (the live total cannot add it)."""
    return not any(entry.form.weight.process_errors for entry in form.items)


class BonusBudgetForm(FlaskForm):
    """The cycle's bonus pool; blank: no pool (docs/bonus.md)."""

    budget = number(_l("Budget"), NumberRange(min=0, message=_l("Enter 0 or more.")))
