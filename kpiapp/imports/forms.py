from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from kpiapp.metrics.catalog import UNITS


class ImportForm(FlaskForm):
    """Only these fields can be set from the browser (allowlist)."""

    kind = SelectField(_l("What is in the file"), choices=[("facts", _l("Report data (metric facts)")),
                                                          ("fx", _l("FX rates (date, currency, rate)"))])
    store_id = SelectField(_l("Store"), coerce=int)
    parser = SelectField(_l("Format"))
    date_from = DateField(_l("Report start date"), validators=[Optional()])
    date_to = DateField(_l("Report end date"), validators=[Optional()])
    allow_partial = BooleanField(_l("Import the valid rows even if some rows have errors"))
    file = FileField(_l("File"), validators=[FileRequired()])


class DefinitionForm(FlaskForm):
    key = StringField(_l("Key"), validators=[Optional(), Length(max=48)])
    name_en = StringField(_l("Name (English)"), validators=[DataRequired(), Length(max=120)])
    name_zh = StringField(_l("Name (Chinese)"), validators=[DataRequired(), Length(max=120)])
    unit = SelectField(_l("Unit"), choices=[(u, u) for u in UNITS])
    direction = SelectField(_l("Direction"), choices=[("higher_better", _l("Higher is better")),
                                                      ("lower_better", _l("Lower is better"))])
    formula = StringField(_l("Formula"), validators=[DataRequired(), Length(max=500)])
    includes_en = TextAreaField(_l("Included and excluded (English)"), validators=[Length(max=4000)])
    includes_zh = TextAreaField(_l("Included and excluded (Chinese)"), validators=[Length(max=4000)])
