"""Pure request builders and signers for the IM platforms (no Flask, no database, no network).

Each builder returns `Request`s; kpiapp.notifications.delivery sends them with `requests` and
reads the answer with the platform's `check_*` function. See /work/shared/design/INTEGRATIONS.md
sections 6-8 for the formats and docs/notifications.md for what we send.
"""
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Message:
    """What to say, already in the recipient's language."""

    title: str
    text: str
    link: str | None = None  # absolute URL
    link_label: str = "Open"


@dataclass(frozen=True)
class Request:
    method: str
    url: str
    json: dict | None = None
    params: dict = field(default_factory=dict)
    headers: dict = field(default_factory=dict)


class PlatformError(Exception):
    """The platform answered 200 but refused the message (a non-zero errcode / code)."""

    def __init__(self, code, message, retryable=False):
        super().__init__(f"{code}: {message}")
        self.code, self.message, self.retryable = code, message, retryable


def markdown(message):
    """Plain markdown: the text, then the deep link on its own line."""
    if not message.link:
        return message.text
    return f"{message.text}\n\n[{message.link_label} →]({message.link})"


def plain(message):
    """Plain text: "text → link"."""
    return f"{message.text} → {message.link}" if message.link else message.text
