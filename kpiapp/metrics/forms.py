from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from kpiapp.metrics.catalog import UNITS
from kpiapp.presentation import UNIT_LABELS


class DefinitionForm(FlaskForm):
    key = StringField(_l("Key"), validators=[Optional(), Length(max=48)])
    name_en = StringField(_l("Name (English)"), validators=[DataRequired(), Length(max=120)])
    name_zh = StringField(_l("Name (Chinese)"), validators=[DataRequired(), Length(max=120)])
    unit = SelectField(_l("Unit"), choices=[(u, _l(UNIT_LABELS[u])) for u in UNITS])
    direction = SelectField(_l("Direction"), choices=[("higher_better", _l("Higher is better")),
                                                      ("lower_better", _l("Lower is better"))])
    formula = StringField(_l("Formula"), validators=[DataRequired(), Length(max=500)])
    includes_en = TextAreaField(_l("Included and excluded (English)"), validators=[Length(max=4000)])
    includes_zh = TextAreaField(_l("Included and excluded (Chinese)"), validators=[Length(max=4000)])
