"""The one entry point for every event that tells someone something: `notify`.

A notification is one row per recipient (key + params, rendered in the reader's language when
read or sent) plus one `notification_delivery` row per extra channel the person wants (their
preferences) and the organisation has (SMTP, IM robots and apps). Deliveries are sent by jobs
launched after the caller's transaction commits (kpiapp.notifications.delivery): a slow or
failing channel never blocks or fails the action that caused the notification, and a rolled
back action sends nothing.
"""
from sqlalchemy import select

from kpiapp.extensions import db
from kpiapp.models import (Channel, Digest, ImChannel, ImMode, Notification, NotificationDelivery,
                           NotificationPreference)
from kpiapp.models.notifications import IM_PLATFORMS
from kpiapp.notifications import delivery
from kpiapp.notifications.mail import mail_configured
from kpiapp.notifications.messages import KINDS, OTHER_KIND, OTHER_LABEL, kind_group

ALL_CHANNELS = tuple(Channel)
DEFAULTS = "*"


def notify(users, kind, key, /, *, link=None, scorecard=None, **params) -> list[Notification]:
    """Tell each of `users` (once each, None skipped) about an event of `kind`.

    `key` names the message in messages.MESSAGES and `params` fill it in; `link` is an app path
    ("/cycles/3/scorecards/17"). Returns the in-app notifications, added to the session."""
    if link is not None and not is_app_path(link):
        raise ValueError(f"a notification links to an app path, not {link!r}")
    notes = []
    for user in unique(users):
        note = Notification(user_id=user.id, scorecard_id=scorecard.id if scorecard is not None else None,
                            kind=kind, key=key, params=dict(params), link=link)
        db.session.add(note)
        notes.append(note)
        with db.session.no_autoflush:  # the caller's half-made rows stay unflushed, as they were
            routes = routes_for(user, kind)
        for channel, im_channel in routes:
            delivery.add(NotificationDelivery(notification=note, user_id=user.id, channel=channel,
                                              im_channel_id=im_channel.id if im_channel is not None else None))
    return notes


def is_app_path(link):
    return link.startswith("/") and not link.startswith("//") and "\\" not in link


def unique(users):
    seen = set()
    for user in users:
        if user is not None and user.id not in seen and user.active:
            seen.add(user.id)
            yield user


# ---- where a notification goes ---------------------------------------------------------------

def routes_for(user, kind):
    """(channel, im_channel or None for the environment's robot) pairs for one event of `kind`."""
    wanted = channels_for(user, kind)
    routes = []
    if Channel.email in wanted and mail_configured() and user.email and digest_of(user) == Digest.none:
        routes.append((Channel.email, None))
    for platform in IM_PLATFORMS:
        if platform in wanted:
            routes += [(platform, target) for target in im_targets(platform, user)]
    return routes


def preferences(user):
    """{kind group or "*": NotificationPreference} of one person."""
    rows = db.session.execute(select(NotificationPreference).where(NotificationPreference.user_id == user.id))
    return {row.kind: row for row in rows.scalars()}


def channels_for(user, kind):
    prefs = preferences(user)
    row = prefs.get(kind_group(kind)) or prefs.get(DEFAULTS)
    return set(ALL_CHANNELS) if row is None else {Channel(c) for c in row.channels if c in ALL_CHANNELS}


def digest_of(user):
    row = preferences(user).get(DEFAULTS)
    return Digest(row.digest) if row is not None and row.digest else Digest.none


def im_targets(platform, user):
    """A message to the person through the platform's app when they can be addressed there,
    else one message per group robot of the platform (mentioning them when their id is known)."""
    channels = configured_channels(platform)
    apps = [c for c in channels if c.mode == ImMode.app and delivery.app_address(c, user)]
    if apps:
        return [apps[0]]
    robots = [c for c in channels if c.mode == ImMode.robot]
    if robots:
        return robots
    return [None] if delivery.env_robot(platform) is not None else []


def available_channels():
    """The channels this organisation has set up (e-mail: SMTP; IM: a robot or app)."""
    found = {Channel.email} if mail_configured() else set()
    for platform in IM_PLATFORMS:
        if configured_channels(platform) or delivery.env_robot(platform) is not None:
            found.add(platform)
    return found


def configured_channels(platform=None):
    query = select(ImChannel).where(ImChannel.enabled.is_(True)).order_by(ImChannel.id)
    if platform is not None:
        query = query.where(ImChannel.platform == platform)
    return list(db.session.execute(query).scalars())


# ---- preferences ------------------------------------------------------------------------------

def preference_table(user):
    """For the preferences page: [(group, label, set of channels)] and the digest setting."""
    prefs = preferences(user)
    default = prefs.get(DEFAULTS)
    base = set(default.channels) if default is not None else {c.value for c in ALL_CHANNELS}
    rows = [(group, label, set(prefs[group].channels) if group in prefs else base)
            for group, label in list(KINDS.items())]
    rows.append((OTHER_KIND, OTHER_LABEL, base))
    return rows, digest_of(user)


def save_preferences(user, chosen, digest):
    """`chosen`: {kind group: iterable of channel names}; unknown groups and channels are ignored.
    Writes one row per group plus the "*" row (defaults for other kinds, and the digest)."""
    prefs = preferences(user)
    for group in list(KINDS) + [OTHER_KIND]:
        channels = sorted({c for c in chosen.get(group, ()) if c in {x.value for x in ALL_CHANNELS}})
        kind = DEFAULTS if group == OTHER_KIND else group
        row = prefs.get(kind) or NotificationPreference(user_id=user.id, kind=kind)
        row.channels = channels
        if kind == DEFAULTS:
            row.digest = Digest(digest) if digest in {d.value for d in Digest} else Digest.none
        db.session.add(row)
