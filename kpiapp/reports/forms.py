from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectField

LANG_CHOICES = [("en", "English"), ("zh_CN", "中文")]


class IssueForm(FlaskForm):
    """Issue a report (one scorecard, a cycle summary or a whole cycle) in one language."""

    lang = SelectField(_l("Language of the report"), choices=LANG_CHOICES)


class VerifyForm(FlaskForm):
    file = FileField(_l("Signed PDF report"), validators=[FileRequired()])
