"""Secrets at rest: marketplace credentials and tokens, IM robot secrets (SECURITY.md).

A `Sealed` column stores its value encrypted with Fernet (AES-128-CBC + HMAC-SHA256,
`cryptography`), so a database dump, a backup or a log of SQL shows ciphertext only.

Keys come from `VAULT_KEYS` in the environment: comma-separated Fernet keys, newest
first. The newest encrypts; every listed key decrypts (MultiFernet), so a key is rotated by
putting a new one in front, running `flask --app wsgi kpi vault-rotate` (re-encrypts every
sealed column with the newest key), then dropping the old key. Without `VAULT_KEYS` a key is
generated once into instance/vault_key (mode 0600), like SECRET_KEY: enough for the
one-machine demo; production sets the variable (kpiapp/startup.py warns otherwise).

Sealed values are never shown again, never logged, never in audit diffs: models list their
sealed columns in AUDIT_SECRET_FIELDS, and faces show only whether a value is set.
"""
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import Text
from sqlalchemy.types import TypeDecorator

_cache = {}


class VaultError(Exception):
    """A sealed value could not be opened: the key that sealed it is no longer configured."""


def configured_keys(instance_dir=None):
    """The Fernet keys, newest first: VAULT_KEYS, else the one generated into instance/."""
    listed = [key.strip() for key in os.environ.get("VAULT_KEYS", "").split(",") if key.strip()]
    if listed:
        return listed
    return [_instance_key(Path(instance_dir or _default_instance_dir()))]


def _default_instance_dir():
    from config import INSTANCE_DIR

    return INSTANCE_DIR


def _instance_key(instance_dir):
    path = instance_dir / "vault_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first
            return path.read_text().strip()
        with os.fdopen(fd, "w") as handle:
            handle.write(Fernet.generate_key().decode())
    return path.read_text().strip()


def box():
    keys = tuple(configured_keys())
    if keys not in _cache:
        _cache.clear()
        _cache[keys] = MultiFernet([Fernet(key.encode()) for key in keys])
    return _cache[keys]


def seal(text):
    """Ciphertext (str) of `text`; None stays None."""
    if text is None:
        return None
    return box().encrypt(text.encode()).decode()


def unseal(token):
    if token is None:
        return None
    try:
        return box().decrypt(token.encode()).decode()
    except InvalidToken as error:
        raise VaultError("a sealed value cannot be opened with the configured VAULT_KEYS") from error


def reseal(token):
    """The same secret sealed with the newest key (MultiFernet.rotate)."""
    if token is None:
        return None
    try:
        return box().rotate(token.encode()).decode()
    except InvalidToken as error:
        raise VaultError("a sealed value cannot be opened with the configured VAULT_KEYS") from error


class Sealed(TypeDecorator):
    """A text column stored sealed: Python sees the plain value, the database the ciphertext."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return seal(value)

    def process_result_value(self, value, dialect):
        return unseal(value)


def rotate_all(session, models):
    """Re-seal every Sealed column of `models` with the newest key; returns the values re-sealed.

    Reading opens each value with whichever configured key sealed it; writing it back through
    the same column type seals it with the newest key. Run in one transaction."""
    from sqlalchemy import select, update

    count = 0
    for model in models:
        table = model.__table__
        key = list(table.primary_key.columns)[0]
        for column in [c for c in table.columns if isinstance(c.type, Sealed)]:
            rows = session.execute(select(key, column).where(column.is_not(None))).all()
            for row_id, plain in rows:
                session.execute(update(table).where(key == row_id).values({column.name: plain}))
            count += len(rows)
    return count
