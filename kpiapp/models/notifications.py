"""Where a notification goes besides the inbox (docs/notifications.md).

`notification_delivery`: one row per (notification, channel) with its status, attempts, last
error and next try; `notification_preference`: a person's channels per event kind (kind "*"
holds their defaults and the e-mail digest frequency); `im_channel`: the organisation's
DingTalk, Feishu and WeCom robots and apps, secrets sealed at rest (vault.Sealed).
"""
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kpiapp.extensions import db
from kpiapp.models.base import EnumText, UTCDateTime, utcnow
from kpiapp.vault import Sealed


class Channel(StrEnum):
    email = "email"
    dingtalk = "dingtalk"
    feishu = "feishu"
    wecom = "wecom"


IM_PLATFORMS = (Channel.dingtalk, Channel.feishu, Channel.wecom)


class ImMode(StrEnum):
    robot = "robot"  # a group robot webhook: posts into one group chat
    app = "app"  # an app's API: a message to one person by their IM id


class DeliveryStatus(StrEnum):
    pending = "pending"
    sent = "sent"
    failed = "failed"


class Digest(StrEnum):
    none = "none"
    daily = "daily"
    weekly = "weekly"


class ImChannel(db.Model):
    __tablename__ = "im_channel"
    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[Channel] = mapped_column(EnumText(Channel, 16))
    mode: Mapped[ImMode] = mapped_column(EnumText(ImMode, 8), default=ImMode.robot)
    name: Mapped[str] = mapped_column(String(80))
    webhook_url: Mapped[str | None] = mapped_column(Sealed)  # the URL carries the robot's token
    secret: Mapped[str | None] = mapped_column(Sealed)  # robot signing secret
    app_id: Mapped[str | None] = mapped_column(String(120))  # app key / app id / corp id
    app_secret: Mapped[str | None] = mapped_column(Sealed)
    agent_id: Mapped[str | None] = mapped_column(String(40))  # DingTalk and WeCom apps
    api_base: Mapped[str | None] = mapped_column(String(200))  # another host (Lark, a test receiver)
    enabled: Mapped[bool] = mapped_column(default=True)
    created_at = mapped_column(UTCDateTime, default=utcnow)

    AUDIT_SECRET_FIELDS = ("webhook_url", "secret", "app_secret")


class NotificationDelivery(db.Model):
    __tablename__ = "notification_delivery"
    __audit__ = False  # bookkeeping of sends, like the notification itself
    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int | None] = mapped_column(ForeignKey("notification.id", ondelete="CASCADE"),
                                                        index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    channel: Mapped[Channel] = mapped_column(EnumText(Channel, 16))
    im_channel_id: Mapped[int | None] = mapped_column(ForeignKey("im_channel.id", ondelete="SET NULL"))
    purpose: Mapped[str] = mapped_column(String(16), default="event")  # event, digest, test
    subject: Mapped[str | None] = mapped_column(String(200))  # digest and test sends carry their text
    body: Mapped[str | None] = mapped_column(Text)
    status: Mapped[DeliveryStatus] = mapped_column(EnumText(DeliveryStatus, 16), default=DeliveryStatus.pending,
                                                   index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    next_try_at = mapped_column(UTCDateTime, nullable=True)
    sent_at = mapped_column(UTCDateTime, nullable=True)
    created_at = mapped_column(UTCDateTime, default=utcnow)
    notification = relationship("Notification")
    user = relationship("User")
    im_channel = relationship("ImChannel")


class NotificationPreference(db.Model):
    __tablename__ = "notification_preference"
    __table_args__ = (UniqueConstraint("user_id", "kind"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(40))  # an event kind, or "*" for the defaults
    channels: Mapped[list] = mapped_column(JSON, default=list)  # Channel values; in-app is always on
    digest: Mapped[Digest] = mapped_column(EnumText(Digest, 8), default=Digest.none)  # only on "*"
    updated_at = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
