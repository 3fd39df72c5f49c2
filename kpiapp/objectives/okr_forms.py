"""The forms of the objective pages (objectives, key results, check-ins, decomposition).
The services check every value again and name the field at fault; these forms keep what
was typed and put the service's refusal on that field."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from kpiapp.forms import NumberField
from kpiapp.models import Confidence, KrKind, ObjectiveLevel, ObjectiveStatus
from kpiapp.presentation import UNIT_LABELS

MANUAL_UNITS = [("", _l("a number"))] + [(unit, _l(UNIT_LABELS[unit])) for unit in ("money", "count", "hours", "days")]
METHODS = [("shares", _l("by share")), ("equal", _l("equal split")), ("typed", _l("typed amounts"))]


def enum_choices(enum):
    return [(str(member), _l(member.label)) for member in enum]


class ObjectiveForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    level = SelectField(_l("Level"), choices=enum_choices(ObjectiveLevel))
    owner_id = SelectField(_l("Owner"), coerce=str)
    parent_id = SelectField(_l("Parent objective"), coerce=str, validators=[Optional()])
    period = StringField(_l("Period"), validators=[DataRequired(), Length(max=16)])
    weight = NumberField(_l("Weight in the parent's roll-up"), validators=[Optional()])
    rollup = BooleanField(_l("Progress from the child objectives (roll-up)"))
    shared = BooleanField(_l("Shared with the team"), default=True)
    status = SelectField(_l("Status"), choices=enum_choices(ObjectiveStatus))
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=4000)])


class KeyResultForm(FlaskForm):
    kind = RadioField(_l("Measured"), choices=enum_choices(KrKind), default="metric")
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    owner_id = SelectField(_l("Owner"), coerce=str)
    metric_key = SelectField(_l("Metric"), coerce=str, validators=[Optional()])
    sku = StringField(_l("SKU (optional)"), validators=[Optional(), Length(max=64)])
    unit = SelectField(_l("Unit"), choices=MANUAL_UNITS, validators=[Optional()])
    start_value = NumberField(_l("Start value"), validators=[Optional()])
    target = NumberField(_l("Target"), validators=[Optional()])
    weight = NumberField(_l("Weight"), validators=[Optional()])
    milestones = TextAreaField(_l("Milestones (one a line)"), validators=[Optional(), Length(max=4000)])


class CheckInForm(FlaskForm):
    value = NumberField(_l("Value now"), validators=[Optional()])
    confidence = RadioField(_l("Confidence"), choices=enum_choices(Confidence), validators=[DataRequired()])
    week = DateField(_l("Week of"), validators=[Optional()])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=2000)])
    private_note = TextAreaField(_l("Private note (you, your managers and HR)"),
                                 validators=[Optional(), Length(max=2000)])


class DecomposeForm(FlaskForm):
    method = RadioField(_l("Split"), choices=METHODS, default="shares")


class LinkItemForm(FlaskForm):
    item_id = SelectField(_l("KPI item"), coerce=str, validators=[DataRequired()])
