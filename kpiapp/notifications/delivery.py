"""Sending deliveries: one `deliver` job per attempt, retry with backoff, give up after N.

`add` puts a delivery row in the session; just before the session commits, a `deliver` job row
(kpiapp/jobs.py) is created for each; after the commit the jobs go to RQ, or, without Redis,
run in a background thread of this process. A rolled-back transaction sends nothing.

An attempt that fails on a timeout, a connection error, HTTP 429/5xx or a platform's
"too fast" code is tried again after NOTIFY_RETRY_DELAYS (the `notify-retry` schedule entry
launches what is due); after NOTIFY_MAX_ATTEMPTS it is marked failed. Other refusals (HTTP 4xx,
a bad signature) fail at once. A robot at its rate limit (limits.py) defers the send to its next
window without using up an attempt. Errors are stored and logged as our own short text (status code,
platform code and message), never the request URL: robot URLs carry their tokens.
"""
import json
import threading
import time
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from flask_babel import force_locale, gettext
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from kpiapp.extensions import db
from kpiapp.models import Channel, DeliveryStatus, ImChannel, ImMode, NotificationDelivery, User
from kpiapp.models.base import utcnow
from kpiapp.notifications import limits, mail, messages
from kpiapp.notifications.channels import Message, PlatformError, dingtalk, email, feishu, wecom

KIND = "deliver"
LOST_AFTER = timedelta(minutes=10)
SUBJECT = "notification_delivery"
_threads = []


class Retryable(Exception):
    """Worth another try later."""


class Refused(Exception):
    """Will fail the same way again."""


# ---- queueing after commit ----------------------------------------------------------------------

def add(row):
    db.session.add(row)
    db.session.info.setdefault("deliveries", []).append(row)
    return row


@event.listens_for(Session, "before_commit")
def _create_jobs(session):
    rows = session.info.pop("deliveries", [])
    if not rows:
        return
    from kpiapp import jobs

    session.flush()
    runs = [jobs.create(KIND, SUBJECT, row.id) for row in rows if row.id is not None]
    for run in runs:
        run.rq_id = f"{KIND}-{run.id}"
    session.info["delivery_runs"] = [run.id for run in runs]


@event.listens_for(Session, "after_commit")
def _launch_jobs(session):
    run_ids = session.info.pop("delivery_runs", [])
    if run_ids:
        launch(run_ids)


@event.listens_for(Session, "after_rollback")
def _drop(session):
    session.info.pop("deliveries", None)
    session.info.pop("delivery_runs", None)


def launch(run_ids):
    """Hand committed `deliver` job rows to RQ, or to a thread here when there is no Redis."""
    from kpiapp import jobs

    try:
        if jobs.redis_connection() is None:
            start_thread(run_ids)
            return
        for run_id in run_ids:
            jobs.queue().enqueue(jobs.ENTRY_POINT, run_id, job_id=f"{KIND}-{run_id}", job_timeout=120,
                                 result_ttl=600, failure_ttl=7 * 86400, meta={"job_run_id": run_id})
    except Exception:  # the sweep (`notify-retry`) picks up whatever stayed pending
        current_app.logger.exception("deliveries %s could not be queued", run_ids)


def start_thread(run_ids):
    app = current_app._get_current_object()
    thread = threading.Thread(target=run_in_app, args=(app, list(run_ids)), daemon=True)
    _threads.append(thread)
    thread.start()


def run_in_app(app, run_ids):
    from kpiapp import jobs

    with app.app_context():
        for run_id in run_ids:
            jobs.run_in_process(run_id)
        db.session.remove()


def wait(timeout=30):
    """Wait for the in-process delivery threads (tests, bench, CLI)."""
    while _threads:
        _threads.pop().join(timeout)


def due_ids(now=None):
    """Pending deliveries to try now: retries (and sends a robot's rate limit deferred) whose time
    has come, and first tries whose job was lost (the process ended before its thread ran, Redis refused the job) after LOST_AFTER."""
    from sqlalchemy import and_, or_

    now = now or utcnow()
    retry = and_(NotificationDelivery.next_try_at.is_not(None), NotificationDelivery.next_try_at <= now)
    lost = and_(NotificationDelivery.attempts == 0, NotificationDelivery.next_try_at.is_(None),
                NotificationDelivery.created_at <= now - LOST_AFTER)
    return list(db.session.execute(select(NotificationDelivery.id).where(
        NotificationDelivery.status == DeliveryStatus.pending, or_(retry, lost))
        .order_by(NotificationDelivery.id)).scalars())


def launch_due(now=None):
    """Create `deliver` jobs for the retries that are due; commits; returns how many."""
    from kpiapp import jobs

    runs = [jobs.create(KIND, SUBJECT, delivery_id) for delivery_id in due_ids(now)]
    for run in runs:
        run.rq_id = f"{KIND}-{run.id}"
    db.session.commit()
    if runs:
        launch([run.id for run in runs])
    return len(runs)


# ---- one attempt --------------------------------------------------------------------------------

def attempt(delivery_id):
    """Try to send one delivery once; records the outcome on the row and commits."""
    row = db.session.get(NotificationDelivery, delivery_id)
    if row is None or row.status != DeliveryStatus.pending:
        return None
    row.attempts += 1
    try:
        send(row)
    except limits.Deferred as error:
        defer(row, error)
    except Retryable as error:
        retry_or_fail(row, str(error))
    except (Refused, PlatformError) as error:
        fail(row, str(error), retryable=getattr(error, "retryable", False))
    else:
        row.status, row.sent_at, row.last_error, row.next_try_at = DeliveryStatus.sent, utcnow(), None, None
    db.session.commit()
    return row.status


def defer(row, error):
    """The robot is at its rate limit: wait, without using up an attempt."""
    row.attempts -= 1
    row.last_error, row.next_try_at = str(error), utcnow() + timedelta(seconds=error.wait)


def fail(row, reason, retryable=False):
    if retryable:
        retry_or_fail(row, reason)
        return
    row.status, row.last_error, row.next_try_at = DeliveryStatus.failed, reason[:500], None
    log_failure(row)


def retry_or_fail(row, reason):
    config = current_app.config
    delays = config["NOTIFY_RETRY_DELAYS"]
    row.last_error = reason[:500]
    if row.attempts >= config["NOTIFY_MAX_ATTEMPTS"]:
        row.status, row.next_try_at = DeliveryStatus.failed, None
        log_failure(row)
        return
    row.next_try_at = utcnow() + timedelta(seconds=delays[min(row.attempts, len(delays)) - 1])


def log_failure(row):
    current_app.logger.warning("delivery %s (%s) failed after %s attempt(s): %s",
                               row.id, row.channel, row.attempts, row.last_error)


def send(row):
    recipient = db.session.get(User, row.user_id) if row.user_id else None
    locale = messages.reader_locale(recipient) if recipient is not None else current_app.config[
        "BABEL_DEFAULT_LOCALE"]
    with force_locale(locale):
        message = message_of(row)
    if row.channel == Channel.email:
        send_email(recipient, email.subject(message) if row.notification is not None else row.subject,
                   email.body(message) if row.notification is not None else row.body)
        return
    settings = settings_of(row)
    if settings is None:
        raise Refused("channel not configured")
    SENDERS[row.channel](settings, recipient, message, row)


def message_of(row):
    link_label = gettext("Open")
    if row.notification is not None:
        text = messages.text(row.notification)
        return Message(title=text[:60], text=text, link=absolute(row.notification.link), link_label=link_label)
    return Message(title=(row.subject or "kpiapp")[:60], text=row.body or row.subject or "", link_label=link_label)


def absolute(path):
    if not path:
        return None
    if path.startswith(("http://", "https://")):
        return path
    return current_app.config["BASE_URL"].rstrip("/") + "/" + path.lstrip("/")


def send_email(recipient, subject, body):
    import smtplib

    if recipient is None or not recipient.email:
        raise Refused("no e-mail address")
    try:
        mail.send_mail(recipient.email, subject, body)
    except (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, OSError) as error:
        raise Retryable(f"SMTP: {type(error).__name__}") from None
    except smtplib.SMTPException as error:
        raise Refused(f"SMTP: {type(error).__name__}") from None


# ---- IM -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Settings:
    """One IM channel's configuration: a DB row or the environment's robot."""

    platform: Channel
    mode: ImMode
    webhook_url: str | None = None
    secret: str | None = None
    app_id: str | None = None
    app_secret: str | None = None
    agent_id: str | None = None
    api_base: str | None = None


def settings_of(row):
    if row.im_channel_id is None:
        return env_robot(row.channel)
    channel = db.session.get(ImChannel, row.im_channel_id)
    if channel is None:
        return None
    return Settings(channel.platform, channel.mode, channel.webhook_url, channel.secret, channel.app_id,
                    channel.app_secret, channel.agent_id, channel.api_base)


ENV = {Channel.dingtalk: ("DINGTALK_WEBHOOK_URL", "DINGTALK_SECRET"),
       Channel.feishu: ("FEISHU_WEBHOOK_URL", "FEISHU_SECRET"),
       Channel.wecom: ("WECOM_WEBHOOK_URL", None)}


def env_robot(platform):
    """The group robot configured in the environment for `platform`, or None."""
    url_name, secret_name = ENV[Channel(platform)]
    url = current_app.config.get(url_name)
    if not url:
        return None
    return Settings(Channel(platform), ImMode.robot, url, current_app.config.get(secret_name) if secret_name else None)


def app_address(channel, user):
    """The id a platform app addresses `user` by: the imported IM id (Feishu: else the e-mail)."""
    platform = Channel(channel.platform)
    if platform == Channel.dingtalk:
        return user.dingtalk_id
    if platform == Channel.wecom:
        return user.wecom_id
    return user.feishu_id or user.email


def send_dingtalk(settings, user, message, row):
    if settings.mode == ImMode.robot:
        at = [user.dingtalk_id] if user is not None and user.dingtalk_id else []
        limits.take_slot(settings)
        request = dingtalk.robot_request(settings.webhook_url, settings.secret, message,
                                         int(time.time() * 1000), at)
        return dingtalk.check(call(request))
    api = settings.api_base or dingtalk.API
    return with_app_token(settings, dingtalk, dingtalk.token_request(settings.app_id, settings.app_secret, api),
                          lambda token: dingtalk.work_notice_request(token, settings.agent_id,
                                                                     app_address(settings, user), message, api))


def send_feishu(settings, user, message, row):
    if settings.mode == ImMode.robot:
        at = user.feishu_id if user is not None else None
        limits.take_slot(settings)
        request = feishu.robot_request(settings.webhook_url, settings.secret, message, int(time.time()), at)
        return feishu.check(call(request))
    api = settings.api_base or feishu.API
    id_type = "user_id" if user.feishu_id else "email"
    return with_app_token(settings, feishu, feishu.token_request(settings.app_id, settings.app_secret, api),
                          lambda token: feishu.message_request(token, app_address(settings, user), message,
                                                               f"kpiapp-{row.id}", api, id_type))


def send_wecom(settings, user, message, row):
    if settings.mode == ImMode.robot:
        at = user.wecom_id if user is not None else None
        limits.take_slot(settings)
        return wecom.check(call(wecom.robot_request(settings.webhook_url, message, at)))
    api = settings.api_base or wecom.API
    return with_app_token(settings, wecom, wecom.token_request(settings.app_id, settings.app_secret, api),
                          lambda token: wecom.app_message_request(token, settings.agent_id,
                                                                  app_address(settings, user), message, api))


def with_app_token(settings, platform, token_request, message_request):
    """Send `message_request(token)` with the app's cached token (limits.app_token); if the platform
    says the token is no longer valid, fetch a new one and send once more."""
    def fetch():
        return platform.token_of(call(token_request))

    token = limits.app_token(settings, fetch)
    try:
        return platform.check(call(message_request(token)))
    except PlatformError as error:
        if error.code not in platform.TOKEN_INVALID:
            raise
    limits.forget_token(settings)
    return platform.check(call(message_request(limits.app_token(settings, fetch))))


SENDERS = {Channel.dingtalk: send_dingtalk, Channel.feishu: send_feishu, Channel.wecom: send_wecom}


def call(request):
    """Send one Request; the JSON answer, or Retryable / Refused with a short, secret-free reason."""
    import requests

    data = None if request.json is None else json.dumps(request.json, ensure_ascii=False).encode()
    headers = {**request.headers}
    if data is not None:
        headers["Content-Type"] = "application/json; charset=utf-8"
    try:
        response = requests.request(request.method, request.url, params=request.params or None, data=data,
                                    headers=headers, timeout=current_app.config["NOTIFY_TIMEOUT"])
    except requests.Timeout:
        raise Retryable("timeout") from None
    except requests.RequestException as error:
        raise Retryable(f"connection failed ({type(error).__name__})") from None
    if response.status_code == 429 or response.status_code >= 500:
        raise Retryable(f"HTTP {response.status_code}")
    if response.status_code >= 400:
        return refusal_answer(response)
    try:
        return response.json()
    except ValueError:
        raise Refused(f"HTTP {response.status_code}: not JSON") from None


def refusal_answer(response):
    """A 4xx whose JSON carries the platform's own non-zero code (Feishu answers an expired token
    with HTTP 400 and code 99991663) goes back to the platform's `check`, which knows that code;
    any other 4xx is refused."""
    try:
        answer = response.json()
    except ValueError:
        answer = None
    codes = [answer.get(key) for key in ("code", "errcode")] if isinstance(answer, dict) else []
    if any(isinstance(code, int) and code != 0 for code in codes):
        return answer
    raise Refused(f"HTTP {response.status_code}")


