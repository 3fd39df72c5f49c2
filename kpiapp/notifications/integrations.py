"""The admin's integrations page: IM channels (from the page and from the environment),
test sends, recent deliveries and failures. Secrets are written, never read back: the page
shows only whether a value is set and the webhook's host (its URL carries the token)."""
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask_babel import force_locale, gettext
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from kpiapp import audit
from kpiapp.extensions import db
from kpiapp.models import Channel, DeliveryStatus, ImChannel, ImMode, NotificationDelivery
from kpiapp.models.notifications import IM_PLATFORMS
from kpiapp.notifications import delivery, messages

SECRETS = ("webhook_url", "secret", "app_secret")
PLAIN = ("name", "app_id", "agent_id", "api_base")
RECENT = 50


class IntegrationError(Exception):
    def __init__(self, message, field=None):
        super().__init__(message)
        self.message, self.field = message, field


@dataclass(frozen=True)
class ChannelRow:
    """One line of the channels table."""

    id: int | None  # None: configured in the environment
    platform: Channel
    mode: ImMode
    name: str
    host: str
    has_secret: bool
    enabled: bool


def channel_rows():
    rows = [ChannelRow(c.id, Channel(c.platform), ImMode(c.mode), c.name, host_of(c.webhook_url or c.api_base),
                       bool(c.secret or c.app_secret), c.enabled)
            for c in db.session.execute(select(ImChannel).order_by(ImChannel.id)).scalars()]
    for platform in IM_PLATFORMS:
        env = delivery.env_robot(platform)
        if env is not None:
            rows.append(ChannelRow(None, platform, ImMode.robot, "", host_of(env.webhook_url), bool(env.secret), True))
    return rows


def host_of(url):
    return urlsplit(url).netloc if url else ""


def save_channel(channel, values):
    """Set a channel from the form's `values`; a secret left empty keeps the stored one."""
    channel.platform, channel.mode = Channel(values["platform"]), ImMode(values["mode"])
    for name in PLAIN:
        setattr(channel, name, (values.get(name) or "").strip() or None)
    channel.name = channel.name or ""
    for name in SECRETS:
        if values.get(name):
            setattr(channel, name, values[name].strip())
    channel.enabled = bool(values.get("enabled"))
    check_channel(channel)
    db.session.add(channel)
    return channel


def check_channel(channel):
    if channel.mode == ImMode.robot and not channel.webhook_url:
        raise IntegrationError(gettext("A group robot needs its webhook URL."), "webhook_url")
    if channel.mode == ImMode.app and not (channel.app_id and channel.app_secret):
        raise IntegrationError(gettext("An app needs its id and secret."), "app_secret")
    if channel.mode == ImMode.app and channel.platform != Channel.feishu and not channel.agent_id:
        raise IntegrationError(gettext("A DingTalk or WeCom app needs its agent id."), "agent_id")


def test_send(actor, platform, channel_id=None):
    """A test message to one channel, from and for `actor`; the delivery shows on the page."""
    platform = Channel(platform)
    if channel_id is None and delivery.env_robot(platform) is None:
        raise IntegrationError(gettext("No such channel."))
    with force_locale(messages.reader_locale(actor)):
        subject = gettext("kpiapp test message")
        body = gettext("This is a test message from kpiapp, sent by %(name)s.", name=actor.name)
    row = delivery.add(NotificationDelivery(user_id=actor.id, channel=platform, im_channel_id=channel_id,
                                            purpose="test", subject=subject, body=body))
    audit.record(db.session, "notify.test_send", "im_channel", channel_id,
                 after={"platform": platform.value, "source": "page" if channel_id else "environment"},
                 actor=audit.actor_for(actor))
    return row


def recent_deliveries(status=None, limit=RECENT):
    query = (select(NotificationDelivery).options(selectinload(NotificationDelivery.user),
                                                  selectinload(NotificationDelivery.notification))
             .order_by(NotificationDelivery.id.desc()).limit(limit))
    if status is not None:
        query = query.where(NotificationDelivery.status == status)
    return list(db.session.execute(query).scalars())


def failures(limit=RECENT):
    return recent_deliveries(DeliveryStatus.failed, limit)
