"""Settings, every one from the environment with a safe default.

`SECRET_KEY` is never a constant in code: unless set in the environment it is
generated once into `instance/secret_key` (mode 0600) and read back after.
"""
import os
import secrets
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("KPIAPP_INSTANCE", BASE_DIR / "instance"))


def env_bool(name, default):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def instance_secret_key(instance_dir=INSTANCE_DIR):
    """Return SECRET_KEY from the environment or a key generated into instance/."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    path = Path(instance_dir) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text().strip()


def database_url():
    url = os.environ.get("DATABASE_URL")
    if not url:
        return f"sqlite:///{INSTANCE_DIR / 'kpiapp.sqlite'}"
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


class Config:
    ENV_NAME = "production"  # start-up checks (kpiapp/startup.py) run only here
    INSTANCE_DIR = INSTANCE_DIR
    SECRET_KEY = None  # filled by create_app through instance_secret_key()
    SQLALCHEMY_DATABASE_URI = database_url()
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    REDIS_URL = os.environ.get("REDIS_URL") or None
    RQ_QUEUE = os.environ.get("RQ_QUEUE", "kpiapp")
    # A bulk report issue is split into this many RQ jobs, so up to this many workers share it.
    REPORT_BATCH_JOBS = int(os.environ.get("REPORT_BATCH_JOBS", 4))
    # an import of at least this many facts ANALYZEs the month partitions it wrote (docs/scaling.md)
    ANALYZE_AFTER_FACTS = int(os.environ.get("ANALYZE_AFTER_FACTS", 10_000))
    # ... and a month that has statistics only once its heap has grown by this share of the pages
    # its last ANALYZE counted (1.0: doubled; the statistics then describe at least half its rows)
    ANALYZE_AFTER_GROWTH = float(os.environ.get("ANALYZE_AFTER_GROWTH", 1.0))
    # An import's parser holds at most this many facts; beyond, they go to fact_stage (issue 10,
    # kpiapp/imports/stage.py). 0: always in memory.
    IMPORT_STAGE_FACTS = int(os.environ.get("IMPORT_STAGE_FACTS", 50_000))
    # PostgreSQL, an import into a chosen store: those facts are written once, into metric_fact, as
    # they are parsed, in the import's transaction (kpiapp/imports/direct.py); 0: through fact_stage
    IMPORT_WRITE_ONCE = env_bool("IMPORT_WRITE_ONCE", True)
    # PostgreSQL: work_mem for an import's own transactions (SET LOCAL), so the staged file's
    # sorts and the day sums of a large file stay in memory instead of spilling at the server's
    # default 4MB (docs/scaling.md); empty: the server's setting.
    IMPORT_WORK_MEM = os.environ.get("IMPORT_WORK_MEM", "64MB")
    # built dashboard pages kept per worker process (docs/dashboards.md "The memo"); 0: none kept
    DASHBOARD_MEMO_SIZE = int(os.environ.get("DASHBOARD_MEMO_SIZE", 120))
    # whole list pages kept per worker process (kpiapp/web/kept_pages.py), off with the memo above
    PAGE_MEMO_SIZE = int(os.environ.get("PAGE_MEMO_SIZE", 200))
    # Production refuses to start without REDIS_URL unless in-process jobs are asked for explicitly.
    INPROCESS_JOBS = env_bool("KPIAPP_INPROCESS_JOBS", False)

    # Sessions and cookies (SECURITY.md S1-S4)
    LOCAL_DEV = env_bool("KPIAPP_LOCAL_DEV", False)
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = True
    SESSION_COOKIE_NAME = "__Host-kpiapp"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = True
    REMEMBER_COOKIE_NAME = "__Host-kpiapp-remember"
    REMEMBER_COOKIE_DURATION = timedelta(days=14)
    SESSION_IDLE_TIMEOUT = timedelta(minutes=int(os.environ.get("SESSION_IDLE_MINUTES", 30)))
    SESSION_ABSOLUTE_TIMEOUT = timedelta(hours=int(os.environ.get("SESSION_ABSOLUTE_HOURS", 12)))
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)

    # Authentication
    PASSWORD_MIN_LENGTH = int(os.environ.get("PASSWORD_MIN_LENGTH", 8))
    LOGIN_MAX_FAILURES = int(os.environ.get("LOGIN_MAX_FAILURES", 5))
    LOGIN_LOCK_MINUTES = int(os.environ.get("LOGIN_LOCK_MINUTES", 15))
    LOGIN_MAX_FAILURES_PER_IP = int(os.environ.get("LOGIN_MAX_FAILURES_PER_IP", 30))
    LOGIN_CODE_MAX_TRIES = int(os.environ.get("LOGIN_CODE_MAX_TRIES", 5))  # second-factor codes per sign-in
    LOGIN_CODE_MINUTES = int(os.environ.get("LOGIN_CODE_MINUTES", 5))  # to enter it after the password
    MFA_REQUIRED_FOR_PRIVILEGED = env_bool("MFA_REQUIRED_FOR_PRIVILEGED", True)
    HSTS_SECONDS = 31536000

    # Uploads
    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_UPLOAD_MB", 100)) * 1024 * 1024
    WTF_CSRF_TIME_LIMIT = None  # token lives as long as the session

    # Locale
    LANGUAGES = ("en", "zh_CN")
    BABEL_DEFAULT_LOCALE = "en"
    BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "kpiapp" / "translations")
    # E-mail notifications: sent only when MAIL_SERVER is set
    MAIL_SERVER = os.environ.get("MAIL_SERVER") or None
    MAIL_PORT = int(os.environ.get("MAIL_PORT", 587))
    MAIL_USE_TLS = env_bool("MAIL_USE_TLS", True)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME") or None
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD") or None
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "kpiapp@localhost")
    # Notifications (docs/notifications.md): deep links in e-mail and IM point under BASE_URL
    BASE_URL = os.environ.get("BASE_URL", "http://127.0.0.1:5000")
    # Group robots for a one-machine install (more robots and apps: /admin/integrations)
    DINGTALK_WEBHOOK_URL = os.environ.get("DINGTALK_WEBHOOK_URL") or None
    DINGTALK_SECRET = os.environ.get("DINGTALK_SECRET") or None
    FEISHU_WEBHOOK_URL = os.environ.get("FEISHU_WEBHOOK_URL") or None
    FEISHU_SECRET = os.environ.get("FEISHU_SECRET") or None
    WECOM_WEBHOOK_URL = os.environ.get("WECOM_WEBHOOK_URL") or None
    NOTIFY_TIMEOUT = float(os.environ.get("NOTIFY_TIMEOUT", 10))  # seconds per HTTP call
    NOTIFY_MAX_ATTEMPTS = int(os.environ.get("NOTIFY_MAX_ATTEMPTS", 4))
    NOTIFY_RETRY_DELAYS = (60, 300, 1800)  # seconds before the 2nd, 3rd and 4th attempt
    # An SP-API app still in draft: its authorisation link needs version=beta (docs/connectors.md)
    SPAPI_DRAFT_APP = env_bool("SPAPI_DRAFT_APP", False)
    BASE_CURRENCY = os.environ.get("BASE_CURRENCY", "USD")
    ORG_NAME = os.environ.get("ORG_NAME", "Harbor & Pine Trading Co.")

    # Report signing (docs/reports.md). PKCS#12 (+ passphrase file) or PEM key + cert; the CA
    # certificates that verify reports. None set: a demo organisation CA is generated into
    # instance/signing/ on first use (never at start-up).
    SIGNING_P12_PATH = os.environ.get("SIGNING_P12_PATH") or None
    SIGNING_P12_PASSPHRASE_FILE = os.environ.get("SIGNING_P12_PASSPHRASE_FILE") or None
    SIGNING_KEY_PATH = os.environ.get("SIGNING_KEY_PATH") or None
    SIGNING_CERT_PATH = os.environ.get("SIGNING_CERT_PATH") or None
    SIGNING_CA_PATHS = tuple(p.strip() for p in os.environ.get("SIGNING_CA_PATHS", "").split(",") if p.strip())
    TIMESTAMP_URL = os.environ.get("TIMESTAMP_URL") or None
    # Audit chain anchors (docs/security.md): append-only JSON lines outside the database,
    # default instance/audit-anchors.jsonl; optional syslog copy: /dev/log or host:port (UDP).
    AUDIT_ANCHOR_PATH = os.environ.get("AUDIT_ANCHOR_PATH") or None
    AUDIT_ANCHOR_SYSLOG = os.environ.get("AUDIT_ANCHOR_SYSLOG") or None
    # Optional: HMAC-key new audit events with this file's key (>= 32 bytes, outside the DB)
    AUDIT_HMAC_KEY_FILE = os.environ.get("AUDIT_HMAC_KEY_FILE") or None
    REPORT_VERIFY_MAX_BYTES = int(os.environ.get("REPORT_VERIFY_MAX_MB", 20)) * 1024 * 1024


class DevConfig(Config):
    """Local demo: plain http on 127.0.0.1, MFA optional so demo logins work at once."""

    ENV_NAME = "dev"
    LOCAL_DEV = True
    SESSION_COOKIE_SECURE = False
    SESSION_COOKIE_NAME = "kpiapp"
    REMEMBER_COOKIE_SECURE = False
    REMEMBER_COOKIE_NAME = "kpiapp-remember"
    MFA_REQUIRED_FOR_PRIVILEGED = env_bool("MFA_REQUIRED_FOR_PRIVILEGED", False)


class TestConfig(DevConfig):
    ENV_NAME = "test"
    TESTING = True
    REDIS_URL = None
    MFA_REQUIRED_FOR_PRIVILEGED = False
    # tests configure channels themselves, never from the developer's environment
    DINGTALK_WEBHOOK_URL = DINGTALK_SECRET = FEISHU_WEBHOOK_URL = FEISHU_SECRET = WECOM_WEBHOOK_URL = None
    NOTIFY_TIMEOUT = 2.0


def config_from_env():
    """Production config unless KPIAPP_ENV says otherwise."""
    return {"dev": DevConfig, "test": TestConfig}.get(os.environ.get("KPIAPP_ENV", ""), Config)
