"""Translation helpers."""


def N_(message):
    """Mark a message for extraction; it is translated where it is shown."""
    return message
