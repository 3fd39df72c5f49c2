"""Start-up checks: refuse to start with a one-line reason (README, configuration).

Found at start-up rather than at the first write, upload or signed report: a configured
audit key that cannot be used (in any environment: every audited write would fail), and
in production a missing REDIS_URL (jobs would silently run inside web requests) and a
broken signing key (wrong passphrase, unreadable file, expired certificate).
"""
from kpiapp.pdf.signing import SigningError


class StartupRefused(SystemExit):
    """Raised by create_app; as a SystemExit its one-line message goes to stderr, exit code 1."""

    def __init__(self, reason):
        super().__init__(f"kpiapp refuses to start: {reason}")


def check_startup(app):
    check_audit_key(app.config)
    if app.config.get("ENV_NAME") != "production":
        return
    check_job_queue(app.config)
    check_signing(app)
    check_vault_keys(app)


VAULT_WARNING = ("VAULT_KEYS is not set: stored marketplace credentials are sealed with a key generated "
                 "into instance/vault_key; set VAULT_KEYS (kept outside the database and its backups)")


def check_vault_keys(app):
    """Production: warn without VAULT_KEYS (the instance key sits beside the data); refuse
    listed keys that are not Fernet keys (no credential could be opened or sealed)."""
    import os

    from kpiapp import vault

    if not os.environ.get("VAULT_KEYS", "").strip():
        app.logger.warning(VAULT_WARNING)
        return
    try:
        vault.box()
    except (ValueError, TypeError) as error:
        raise StartupRefused(f"VAULT_KEYS cannot be used: {one_line(error)}") from None


def check_job_queue(config):
    if not config.get("REDIS_URL") and not config.get("INPROCESS_JOBS"):
        raise StartupRefused("REDIS_URL is not set; set it, or set KPIAPP_INPROCESS_JOBS=1 to run "
                             "background jobs inside web requests")


def check_audit_key(config):
    from kpiapp.audit import load_hmac_key

    path = config.get("AUDIT_HMAC_KEY_FILE")
    if not path:
        return
    try:
        load_hmac_key(str(path))
    except (OSError, ValueError) as error:
        raise StartupRefused(f"the audit key cannot be used: {one_line(error)}") from None


def check_signing(app):
    """Load the configured signing key once now (cached for signing); the demo CA is left lazy."""
    from kpiapp.reports.services import signing_configured, signing_material

    if not signing_configured(app.config):
        return
    try:
        signing_material(app)
    except (SigningError, OSError, ValueError) as error:
        raise StartupRefused(f"the report signing key cannot be used: {one_line(error)}") from None


def one_line(error):
    return " ".join(str(error).split()) or type(error).__name__
