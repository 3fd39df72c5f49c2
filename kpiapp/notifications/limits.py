"""How fast we may post to one IM robot, and the app access tokens we reuse (INTEGRATIONS.md §6–8).

Robots: DingTalk and WeCom take 20 messages a minute per robot (over it DingTalk throttles the
robot for 10 minutes); Feishu 100 a minute and 5 a second per bot. `take_slot(settings)` counts
the sends of this minute (and second) per robot: in Redis (INCR + EXPIRE, shared by every
worker) when REDIS_URL is set, else in this app. A full window raises `Deferred` with the seconds
to wait; the delivery then waits without using up an attempt (delivery.attempt).

App tokens: DingTalk and WeCom `gettoken` (`expires_in`) and Feishu `tenant_access_token`
(`expire`) live about two hours. `app_token(settings, fetch)` keeps one per app (the key is a
hash of platform, API host, app id and secret) until REFRESH_MARGIN before it expires: sealed
(kpiapp/vault.py) in Redis with that TTL, else in this app. `forget_token` drops it when the
platform says the token is no longer valid.
"""
import hashlib
import threading
import time

from flask import current_app

from kpiapp import vault
from kpiapp.models import Channel

REFRESH_MARGIN = 300  # seconds
# (messages, window in seconds) per robot and platform
ROBOT_LIMITS = {Channel.dingtalk: ((20, 60),), Channel.wecom: ((20, 60),), Channel.feishu: ((100, 60), (5, 1))}
clock = time.time  # tests move it
_lock = threading.Lock()


class Deferred(Exception):
    """The robot's window is full: try again in `wait` seconds."""

    def __init__(self, wait):
        super().__init__(f"waiting for the robot's rate limit ({wait} s)")
        self.wait = wait


def digest(*parts):
    return hashlib.sha256("\x1f".join(str(p or "") for p in parts).encode()).hexdigest()[:32]


# ---- robots ------------------------------------------------------------------------------------

def take_slot(settings):
    """Count one send to this robot, or raise Deferred if a window of its platform is full."""
    robot = digest(settings.platform, settings.webhook_url)
    now = clock()
    for limit, window in ROBOT_LIMITS[Channel(settings.platform)]:
        slot = int(now // window)
        if count(f"kpi:robot:{robot}:{window}:{slot}", window) > limit:
            raise Deferred(max(1, int(window - now % window) + 1))


def count(key, window):
    """This window's count for `key`, one more than before."""
    connection = redis()
    if connection is not None:
        with connection.pipeline() as pipe:
            total, _ = pipe.incr(key).expire(key, window * 2).execute()
        return total
    with _lock:
        counts = local("robot_windows")
        counts[key] = counts.get(key, 0) + 1
        return counts[key]


# ---- app tokens -------------------------------------------------------------------------------

def app_token(settings, fetch):
    """The app's cached access token, or `fetch()` -> (token, lifetime in seconds), kept."""
    key = token_key(settings)
    token = cached(key)
    if token is not None:
        return token
    token, lifetime = fetch()
    keep(key, token, int(lifetime) - REFRESH_MARGIN)
    return token


def forget_token(settings):
    key = token_key(settings)
    connection = redis()
    if connection is not None:
        connection.delete(key)
    with _lock:
        local("app_tokens").pop(key, None)


def token_key(settings):
    return "kpi:imtoken:" + digest(settings.platform, settings.api_base, settings.app_id, settings.app_secret)


def cached(key):
    connection = redis()
    if connection is not None:
        sealed = connection.get(key)
        try:
            return vault.unseal(sealed.decode()) if sealed else None
        except vault.VaultError:  # sealed under keys since rotated away: fetch a new one
            return None
    with _lock:
        token, until = local("app_tokens").get(key, (None, 0))
    return token if clock() < until else None


def keep(key, token, seconds):
    if seconds <= 0:
        return
    connection = redis()
    if connection is not None:
        connection.set(key, vault.seal(token), ex=seconds)
        return
    with _lock:
        local("app_tokens")[key] = (token, clock() + seconds)


# ---- where ------------------------------------------------------------------------------------

def redis():
    from kpiapp.jobs import redis_connection

    return redis_connection()


def local(name):
    """A dict kept on this app (one per app, so tests do not share counts)."""
    return current_app.extensions.setdefault(f"kpiapp.notify.{name}", {})
