"""Authentication use cases: sign-in with throttling, password change, TOTP two-factor."""
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
from flask import current_app
from sqlalchemy import func, select

from kpiapp.audit import Actor, record
from kpiapp.auth.passwords import hash_password, verify_password
from kpiapp.extensions import db
from kpiapp.models import AuditEvent, Role, User
from kpiapp.models.base import utcnow

RECOVERY_CODE_COUNT = 10


class AuthError(Exception):
    def __init__(self, code):
        super().__init__(code)
        self.code = code


def find_user(email):
    email = (email or "").strip().lower()
    return db.session.execute(select(User).where(func.lower(User.email) == email)).scalar_one_or_none()


def recent_failures_from(ip):
    since = utcnow() - timedelta(minutes=current_app.config["LOGIN_LOCK_MINUTES"])
    query = select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "auth.login_failed", AuditEvent.ip == ip, AuditEvent.ts_utc >= since
    )
    return db.session.execute(query).scalar()


@dataclass(frozen=True)
class Pending:
    """A sign-in waiting for its second factor: when the password step passed, and the
    audit log's last sequence number then (failures after it count against this sign-in;
    sequence numbers, unlike whole-second times, cannot straddle the password step)."""

    started: datetime
    audit_mark: int


def audit_mark():
    return db.session.scalar(select(func.coalesce(func.max(AuditEvent.seq), 0)))


def failures_against(user, after_seq):
    query = select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "auth.login_failed", AuditEvent.entity == "user",
        AuditEvent.entity_id == str(user.id), AuditEvent.seq > after_seq,
    )
    return db.session.execute(query).scalar()


def is_throttled(ip):
    return recent_failures_from(ip) >= current_app.config["LOGIN_MAX_FAILURES_PER_IP"]


def is_locked(user):
    return user.locked_until is not None and user.locked_until > utcnow()


def authenticate(email, password, ip):
    """Return the user for a correct e-mail/password, else raise AuthError.

    Throttled two ways: an account is locked for LOGIN_LOCK_MINUTES after
    LOGIN_MAX_FAILURES failures (wrong passwords and wrong second-factor codes),
    and an address with too many recent failures is refused outright.  Every
    failure is an audit event.  A locked account answers like a wrong password,
    after the same password check, so neither text nor timing tells it exists.
    The failure count is reset only when a sign-in completes (record_login).
    """
    user = find_user(email)
    if is_throttled(ip):
        fail(user, email, ip, "throttled")
    password_ok = verify_password(user.password_hash if user else None, password)
    if user is not None and is_locked(user):
        fail(user, email, ip, "locked")
    if not password_ok:
        fail(user, email, ip, "bad_credentials", count=True)
    if not user.active:
        fail(user, email, ip, "disabled")
    return user


def check_pending_code(user, code, ip, pending):
    """Second sign-in step: return "totp" or "recovery_code" for a right code, else raise AuthError.

    `pending` says when the password step of this sign-in succeeded.  The code is
    not even looked at when the address is throttled, the account is locked, or the
    pending sign-in is spent (pending_problem).  A wrong code, TOTP or recovery code
    alike, is a failure toward all of these limits.  The user row is locked first so
    that parallel guesses are counted one after the other.
    """
    db.session.refresh(user, with_for_update=True)
    problem = pending_problem(user, ip, pending)
    if problem is not None:
        fail(user, user.email, ip, problem)
    method = check_second_factor(user, code)
    if method is None:
        fail(user, user.email, ip, "bad_code", count=True)
    return method


def pending_problem(user, ip, pending):
    """Why a pending sign-in can no longer be finished ("throttled", "locked", "expired"), or None."""
    if is_throttled(ip):
        return "throttled"
    if is_locked(user):
        return "locked"
    too_old = utcnow() - pending.started > timedelta(minutes=current_app.config["LOGIN_CODE_MINUTES"])
    if too_old or failures_against(user, pending.audit_mark) >= current_app.config["LOGIN_CODE_MAX_TRIES"]:
        return "expired"
    return None


def fail(user, email, ip, code, count=False):
    if user is not None and count:
        user.failed_logins += 1
        if user.failed_logins >= current_app.config["LOGIN_MAX_FAILURES"]:
            minutes = current_app.config["LOGIN_LOCK_MINUTES"]
            user.locked_until = utcnow() + timedelta(minutes=minutes)
            user.failed_logins = 0
    actor = Actor(user.id if user else None, (email or "")[:254], ip)
    record(db.session, "auth.login_failed", "user", user.id if user else None,
           after={"reason": code}, actor=actor)
    db.session.commit()
    raise AuthError(PUBLIC_REASONS.get(code, code))


# what the person at the keyboard is told: a locked or disabled account looks like a wrong password
PUBLIC_REASONS = {"disabled": "bad_credentials", "locked": "bad_credentials"}


def record_login(user, ip, method):
    user.last_login_at = utcnow()
    user.failed_logins = 0
    user.locked_until = None
    record(db.session, "auth.login", "user", user.id, after={"method": method},
           actor=Actor(user.id, user.email, ip))


def mfa_required(user):
    privileged = user.role in (Role.admin, Role.hr, Role.client)
    return privileged and current_app.config["MFA_REQUIRED_FOR_PRIVILEGED"]


def change_password(user, new_password):
    """Set a new password and end every other session of this user."""
    user.password_hash = hash_password(new_password)
    user.rotate_session_token()


# ---- TOTP ---------------------------------------------------------------------------------

def new_totp_secret():
    return pyotp.random_base32()


def provisioning_uri(user, secret):
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name="kpiapp")


def totp_counter(secret, code, at=None):
    """The time-step the code belongs to (±1 step of drift), or None."""
    totp = pyotp.TOTP(secret)
    at = at or utcnow()
    code = (code or "").strip().replace(" ", "")
    for drift in (0, -1, 1):
        moment = at + timedelta(seconds=drift * totp.interval)
        if secrets.compare_digest(totp.at(moment), code):
            return totp.timecode(moment)
    return None


def hash_recovery_code(code):
    return hashlib.sha256(code.strip().lower().replace("-", "").encode()).hexdigest()


def new_recovery_codes():
    codes = [f"{secrets.token_hex(4)}-{secrets.token_hex(4)}" for _ in range(RECOVERY_CODE_COUNT)]
    return codes, [hash_recovery_code(c) for c in codes]


def enable_two_factor(user, secret, code):
    """Confirm enrolment with a first code; returns the recovery codes to show once."""
    counter = totp_counter(secret, code)
    if counter is None:
        raise AuthError("bad_code")
    codes, hashes = new_recovery_codes()
    user.totp_secret, user.totp_enabled = secret, True
    user.totp_last_counter, user.recovery_codes = counter, hashes
    user.rotate_session_token()
    return codes


def disable_with_code(user, code, ip):
    """Turn two-factor sign-in off after a right code, else raise AuthError.

    The code is guessed under the same limits as at sign-in: refused while the account
    is locked or the address throttled, and a wrong code is a counted, audited failure.
    """
    db.session.refresh(user, with_for_update=True)
    if is_throttled(ip):
        fail(user, user.email, ip, "throttled")
    if is_locked(user):
        fail(user, user.email, ip, "locked")
    if check_second_factor(user, code) is None:
        fail(user, user.email, ip, "bad_code", count=True)
    disable_two_factor(user)


def disable_two_factor(user):
    user.totp_secret, user.totp_enabled = None, False
    user.totp_last_counter, user.recovery_codes = None, None
    user.rotate_session_token()


def check_second_factor(user, code):
    """Accept a fresh TOTP code or an unused recovery code (consumed)."""
    counter = totp_counter(user.totp_secret, code) if user.totp_secret else None
    if counter is not None and counter > (user.totp_last_counter or -1):
        user.totp_last_counter = counter
        return "totp"
    hashed = hash_recovery_code(code or "")
    remaining = list(user.recovery_codes or [])
    if hashed in remaining:
        remaining.remove(hashed)
        user.recovery_codes = remaining
        return "recovery_code"
    return None
