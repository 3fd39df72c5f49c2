from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DateField, SelectField
from wtforms.validators import Optional


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
