"""Password hashing (argon2id) and the password policy of SECURITY.md A1/A2."""
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import lazy_gettext as _l
from zxcvbn.frequency_lists import FREQUENCY_LISTS

hasher = PasswordHasher()  # argon2id, library defaults track current OWASP parameters
COMMON_PASSWORDS = frozenset(FREQUENCY_LISTS["passwords"])
MAX_LENGTH = 128


@cache
def dummy_hash():
    """A valid hash to verify against when the e-mail is unknown, so timing does not tell.
    Made on first use: argon2 is slow on purpose and start-up need not pay for it."""
    return hasher.hash("kpiapp-dummy-password")


def hash_password(password):
    return hasher.hash(password)


def verify_password(password_hash, password):
    try:
        return hasher.verify(password_hash or dummy_hash(), password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def password_problems(password, *, email="", name=""):
    """Human-readable reasons the password is refused; empty when it is fine."""
    problems = []
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(password) < minimum:
        problems.append(_l("Use at least %(n)d characters.", n=minimum))
    if len(password) > MAX_LENGTH:
        problems.append(_l("Use at most %(n)d characters.", n=MAX_LENGTH))
    lowered = password.lower()
    if lowered in COMMON_PASSWORDS:
        problems.append(_l("This password is on a list of common passwords."))
    personal = {part for part in (email.lower().split("@")[0], name.lower()) if len(part) >= 4}
    if any(part in lowered for part in personal):
        problems.append(_l("The password must not contain your name or e-mail."))
    return problems
