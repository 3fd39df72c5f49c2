from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DateField, SelectField, StringField
from wtforms.validators import Optional


class ImportForm(FlaskForm):
    """Only these fields can be set from the browser (allowlist)."""

    kind = SelectField(_l("What is in the file"), choices=[("facts", _l("Report data (metric facts)")),
                                                          ("fx", _l("FX rates (date, currency, rate)"))])
    # the store's code, typed (suggested from the stores of recent imports): a list of every
    # store would grow with the org (1,250 options at 5,000 people, issue 10)
    store = StringField(_l("Store"), validators=[Optional()], filters=[lambda v: v.strip() if v else v])
    parser = SelectField(_l("Format"))
    date_from = DateField(_l("Report start date"), validators=[Optional()])
    date_to = DateField(_l("Report end date"), validators=[Optional()])
    allow_partial = BooleanField(_l("Import the valid rows even if some rows have errors"))
    file = FileField(_l("File"), validators=[FileRequired()])
