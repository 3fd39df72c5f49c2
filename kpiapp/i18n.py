"""Translation markers for the inner rings: no Flask here, so the domain may import it."""
from enum import StrEnum


def N_(message):
    """Mark a message for extraction; it is translated where it is shown."""
    return message


class LabelledEnum(StrEnum):
    """A string enum whose members carry their label: `DRAFT = "draft", N_("Draft")`.

    The value stays the plain string (stored, compared, sent as JSON); `label` is the
    untranslated message, shown through kpiapp.presentation.label or the `|label` filter.
    """

    def __new__(cls, value, label=None):
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label or value
        return member
