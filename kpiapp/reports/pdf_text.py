"""Text helpers for the PDF templates."""

from markupsafe import Markup


def css_string(text):
    """A quoted CSS string for `content:` (margin boxes); everything unusual is hex-escaped."""
    out = []
    for char in str(text):
        if char.isascii() and (char.isalnum() or char in " .,:;/()#-_·"):
            out.append(char)
        else:
            out.append(f"\\{ord(char):x} ")
    return Markup('"' + "".join(out) + '"')
