"""E-mail: the subject and plain-text body of one notification or one digest."""
from kpiapp.notifications.channels import Message, plain

SUBJECT_MAX = 150


def subject(message: Message):
    text = f"[kpiapp] {message.text}"
    return text if len(text) <= SUBJECT_MAX else text[:SUBJECT_MAX - 1] + "…"


def body(message: Message):
    return plain(message) + "\n"


def digest_body(heading, lines, footer):
    """A digest: a heading, one "- line" per item, then a footer (a link to the inbox)."""
    return "\n".join([heading, ""] + [f"- {line}" for line in lines] + ["", footer, ""])
