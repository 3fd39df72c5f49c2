"""Shared WTForms pieces: a number field with errors in the user's language, text filters, and
marking the first invalid field so the page focuses it (an autofocus attribute: the CSP forbids
inline script)."""

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from wtforms import DateField, DecimalField, FieldList, FormField

from kpiapp import presentation


def strip(value):
    return value.strip() if isinstance(value, str) else value


def strip_or_none(value):
    return (value.strip() or None) if isinstance(value, str) else value


class NumberField(DecimalField):
    """A decimal input (type=number, step=any). Refuses NaN and infinities, which would reach
    range checks and raise, and numbers too large for the database's NUMERIC(20, 6) columns."""

    limit = Decimal(10) ** 14

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        if not valuelist[0].strip():
            self.data = None  # left blank: no number, and no error (Optional or DataRequired decide)
            return
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(_l("Enter a number.")) from None
        if isinstance(self.data, Decimal) and not self.data.is_finite():
            self.data = None
            raise ValueError(_l("Enter a number."))
        if isinstance(self.data, Decimal) and abs(self.data) >= self.limit:
            self.data = None
            raise ValueError(_l("This number is too large."))

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]  # what was typed comes back as typed
        if isinstance(self.data, Decimal):
            return f"{self.data.normalize():f}"  # 105000, not 105000.000000 or 1E+5
        return "" if self.data is None else str(self.data)


class UnitNumberField(NumberField):
    """A number typed as people think of its unit (a fraction in percent: 35 for 0.35) and kept
    as the domain stores it; the conversion is kpiapp.presentation's."""

    def __init__(self, label=None, validators=None, unit=None, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.unit = unit

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if isinstance(self.data, Decimal):
            self.data = presentation.from_entry(self.data, self.unit)

    def _value(self):
        if not self.raw_data and isinstance(self.data, Decimal):
            return f"{presentation.to_entry(self.data, self.unit).normalize():f}"
        return super()._value()


class DateInputField(DateField):
    """A date input (type=date) whose parse error is in the user's language."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(_l("Enter a date.")) from None


def leaf_fields(fields):
    """Every input of a form (or a list of fields), sub-forms and lists included, in order."""
    for field in fields:
        if isinstance(field, FormField):
            yield from leaf_fields(field.form)
        elif isinstance(field, FieldList):
            yield from leaf_fields(field.entries)
        else:
            yield field


def posted(form):
    """{name: data} of the form's own inputs that were in the request (absent ones stay as they are)."""
    return {field.short_name: field.data for field in form if getattr(field, "raw_data", None)}


def focus_first_error(form):
    """Give the first invalid input the autofocus flag the form macros render; returns the form."""
    first = next((f for f in leaf_fields(form) if f.errors), None)
    if first is not None:
        first.autofocus = True
    return form
