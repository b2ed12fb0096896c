"""Configuration defaults; every key can be overridden from the environment."""

import os

DEFAULT_SECRET_KEY = "dev-only-secret-key-change-me"  # noqa: S105  (refused in production)


class Config:
    """Defaults for a local, zero-setup run (SQLite in instance/, Redis on localhost)."""

    # "development", "test" or "production". Production refuses a default secret key.
    ENV = "development"
    SECRET_KEY = DEFAULT_SECRET_KEY
    # None means "SQLite file in the instance folder", resolved in create_app.
    DATABASE_URL: str | None = None
    REDIS_URL = "redis://127.0.0.1:6379/0"
    # Seconds the web tier waits for Redis before giving up (it never blocks on it).
    REDIS_TIMEOUT = 1.0

    ORGANISATION_NAME = "Province Sud"
    SERVICE_NAME = "Guichet"
    # A message shown on top of every page, and its level: info, degraded or unavailable.
    SERVICE_BANNER = ""
    SERVICE_BANNER_LEVEL = "info"
    # Seconds each process keeps the announcements it read (banners on every page).
    BANNER_CACHE_SECONDS = 5.0

    BABEL_DEFAULT_LOCALE = "fr"
    BABEL_DEFAULT_TIMEZONE = "Pacific/Noumea"
    LANGUAGES = ("fr", "en")

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    WTF_CSRF_TIME_LIMIT = 4 * 3600
    # Largest request accepted (all files of a form together); larger ones get a 413 page.
    MAX_CONTENT_LENGTH = 60 * 1024 * 1024

    # Staff login: lock an account for LOGIN_LOCKOUT_SECONDS after LOGIN_MAX_FAILURES.
    LOGIN_MAX_FAILURES = 5
    LOGIN_LOCKOUT_SECONDS = 15 * 60
    PASSWORD_MIN_LENGTH = 12
    # Seconds an e-mailed link to the applicant space stays valid.
    APPLICANT_LINK_MAX_AGE = 24 * 3600

    # Job queue and outbox.
    QUEUE_NAME = "default"
    JOB_TIMEOUT = 300
    OUTBOX_MAX_ATTEMPTS = 5
    OUTBOX_RETRY_BASE_SECONDS = 10
    # An enqueued row whose RQ job vanished is re-dispatched after this many seconds.
    OUTBOX_STALE_AFTER = 30
    OUTBOX_DISPATCH_INTERVAL = 2.0
    # A running row older than its job's timeout (PDF_JOB_TIMEOUT for receipts and acts, else
    # JOB_TIMEOUT) plus this many seconds belonged to a worker that died (RQ stops any job at
    # its timeout): the reconciler runs it again.
    OUTBOX_DEAD_WORKER_GRACE = 60
    OUTBOX_BATCH_SIZE = 200
    # Webhook deliveries (job "deliver_webhook") keep a longer schedule of their own: a
    # receiver may be down for hours. Attempts wait WEBHOOK_RETRY_BASE_SECONDS, doubling, at
    # most WEBHOOK_RETRY_MAX_SECONDS (1, 2, 4 … 128 min, then 4 h: about 8 h over 10 attempts).
    # Each POST waits at most these seconds to connect and for the answer.
    WEBHOOK_MAX_ATTEMPTS = 10
    WEBHOOK_RETRY_BASE_SECONDS = 60
    WEBHOOK_RETRY_MAX_SECONDS = 4 * 3600
    WEBHOOK_CONNECT_TIMEOUT = 5.0
    WEBHOOK_READ_TIMEOUT = 10.0
    # How the worker runs jobs: "simple" runs them in the worker process (warm app, fonts and
    # connections: several times the throughput), "fork" forks a work horse per job (RQ's
    # default: a crash or leak stays in the horse). A killed worker's jobs are recovered by
    # the outbox reconciler either way.
    WORKER_CLASS = "simple"

    # Where uploads and generated PDFs are kept: "filesystem" (UPLOAD_DIR, or uploads/ in the
    # instance folder) or "s3" (an S3-compatible object store: bucket, endpoint, region; the
    # credentials come from the usual AWS_* environment variables or the host's role).
    STORAGE_BACKEND = "filesystem"
    # clamd's Unix socket: uploads are scanned before they are stored (virus_scan.py);
    # None scans nothing. CLAMD_TIMEOUT bounds one scan, in seconds.
    CLAMD_SOCKET: str | None = None
    CLAMD_TIMEOUT = 30.0
    UPLOAD_DIR: str | None = None
    S3_BUCKET: str | None = None
    S3_ENDPOINT_URL: str | None = None
    S3_REGION = "us-east-1"
    S3_PREFIX = ""
    # "path" or "virtual" addressing; None: path with S3_ENDPOINT_URL, automatic on AWS.
    S3_ADDRESSING_STYLE: str | None = None

    # Observability. /metrics (Prometheus text format) answers requests carrying
    # "Authorization: Bearer <METRICS_TOKEN>"; with no token set, only requests from the
    # loopback interface that no proxy forwarded (set a token in production). LOG_FORMAT
    # "json" writes one JSON object per log line (request and job ids, never personal data);
    # "text" is for a terminal.
    METRICS_TOKEN: str | None = None
    LOG_FORMAT = "text"

    # Where applicants reach the site: links in e-mails are built on it.
    PUBLIC_URL = "http://127.0.0.1:5000"
    # Drafts live this many days after their last save; a warning goes out this many days
    # before; applicants with a draft are reminded this many hours before the form closes.
    DRAFT_LIFETIME_DAYS = 30
    DRAFT_WARNING_DAYS = 7
    CLOSING_REMINDER_HOURS = 48
    # Seconds between two passes of the draft sweep (expiry, warnings, reminders).
    DRAFT_SWEEP_INTERVAL = 300
    # JSON API (forms_app/api): requests per token (Flask-Limiter syntax).
    API_RATE_LIMIT = "600 per minute"
    # Hours an action's answer is kept under its Idempotency-Key (for the client's retries).
    IDEMPOTENCY_KEEP_HOURS = 24
    # Retention (forms_app.retention; a form's settings may set its own draft lifetime and
    # retention): months an ended request is kept before its personal data is erased; days a
    # delivered e-mail is kept; months a problem report keeps its text and contact address;
    # seconds between two retention passes of the worker's dispatcher.
    RETENTION_MONTHS = 36
    OUTBOX_KEEP_DAYS = 30
    REPORT_RETENTION_MONTHS = 12
    RETENTION_SWEEP_INTERVAL = 3600
    # Seconds between two seals of the audit log's new events (forms_app.audit_chain).
    AUDIT_SEAL_INTERVAL = 10

    # Casework: a request untouched this many days is overdue; its agents get a reminder.
    OVERDUE_AFTER_DAYS = 5
    # Hours between two reminders (one sweep of the worker's dispatcher, and at most one
    # mention of a given overdue request, per interval).
    REMINDER_INTERVAL_HOURS = 24
    # Bank codes (5 digits, IBAN characters 5–9) of the New Caledonian banks; any other
    # bank raises a "non-NC bank" flag. Demo values: the fictitious banks of DOMAIN §2.3;
    # set the real list in production (GUICHET_NC_BANK_CODES='["…", "…"]').
    NC_BANK_CODES = ("99999", "99998")

    # Payment acts and bordereaux (DOMAIN §6.2). A form's settings may name its own budget
    # ("budget"); acts and bordereaux are numbered per budget and year.
    COLLECTIVITE = "PROVINCE SUD — Nouvelle-Calédonie"
    PAYING_ACCOUNTANT = "Payeur de la province Sud"
    DEFAULT_BUDGET = "Budget principal"
    # Seconds a receipt or act render may run before RQ stops it (a stuck render must not
    # hold a worker); a bordereau's render, which grows with its acts, keeps JOB_TIMEOUT.
    PDF_JOB_TIMEOUT = 120
    # The account the transfers are paid from, for the ISO 20022 payment file (demo values).
    DEBTOR_NAME = "PROVINCE SUD"
    DEBTOR_IBAN = "FR7610071988000002001234572"
    DEBTOR_BIC = "TRPUFRP1XXX"
    # Electronic signature of bordereaux: a PKCS#12 file (key + certificate + chain) and its
    # password; the roots trusted when verifying. Unset outside production: a demo PKI is
    # created under the instance folder (`flask --app wsgi pki demo`).
    SIGNING_PKCS12: str | None = None
    SIGNING_PKCS12_PASSWORD: str | None = None
    SIGNING_TRUST_ROOTS: str | None = None
    # Finance staff confirm a signature with a TOTP code from an authenticator app.
    TOTP_ISSUER = "Guichet"

    # Operating through trouble (the ops area). Evidence is counted per bucket of
    # OPS_BUCKET_MINUTES; web processes keep counts in memory and add them to the database
    # at most every OPS_COUNTER_FLUSH_SECONDS; workers beat every HEARTBEAT_INTERVAL seconds.
    OPS_BUCKET_MINUTES = 15
    OPS_COUNTER_FLUSH_SECONDS = 30
    HEARTBEAT_INTERVAL = 60
    # A bucket is abnormal when a count is above the mean + OUTAGE_SIGMA standard deviations
    # of the previous OUTAGE_BASELINE_HOURS and at least the floor for its kind.
    OUTAGE_BASELINE_HOURS = 24
    OUTAGE_SIGMA = 3.0
    OUTAGE_MIN_SERVER_ERRORS = 5
    OUTAGE_MIN_FAILED_SUBMISSIONS = 3
    OUTAGE_MIN_PROBLEM_REPORTS = 3
    # Seconds between two passes of outage detection in the worker's dispatcher.
    OUTAGE_DETECT_INTERVAL = 300
    # An outage window within the last EXTENSION_WINDOW_HOURS before a form closes makes the
    # platform propose an extension of max(EXTENSION_MIN_HOURS, the outage's duration).
    EXTENSION_WINDOW_HOURS = 48
    EXTENSION_MIN_HOURS = 24
    # Reverse proxies in front of the app that are trusted to say the visitor's address,
    # scheme and host (X-Forwarded-For/-Proto/-Host): 0 when gunicorn faces the visitors,
    # 1 behind one nginx. Rate limits count per visitor only when this is right.
    TRUSTED_PROXIES = 0
    # Rate limits (Flask-Limiter): storage defaults to REDIS_URL, memory when Redis is away.
    RATELIMIT_STORAGE_URI: str | None = None
    PROBLEM_REPORT_RATE_LIMIT = "5 per hour"
    # Per client address, on top of each account's lockout (LOGIN_MAX_FAILURES).
    LOGIN_RATE_LIMIT = "20 per minute;200 per hour"
    # E-mailed links (the applicant space's, a draft's): each request sends an e-mail.
    MAGIC_LINK_RATE_LIMIT = "10 per hour"
    # Final submits: generous (an office or a help desk submits for many people from one
    # address), still a wall against a script.
    SUBMIT_RATE_LIMIT = "30 per minute;600 per day"
    # Roles that give a second factor (TOTP) at sign-in: they change roles, decide and pay.
    MFA_ROLES = ("admin", "approver", "finance")
    # Seconds between the password and the second factor before starting again.
    MFA_PENDING_SECONDS = 300
    # A signed-in staff member idle this long is signed out.
    STAFF_IDLE_MINUTES = 30
    # Seconds the dashboards' figures are kept before being computed again.
    DASHBOARD_CACHE_SECONDS = 60
    # The open-data export of granted aids (SCDL "subventions"): who grants them. The
    # identifier is the RIDET of the collectivity (demo value).
    SCDL_ATTRIBUTOR_NAME = "Province Sud"
    SCDL_ATTRIBUTOR_ID = "0123456001"

    # E-mail: "file" writes .eml files under MAIL_DIR, "smtp" sends through SMTP_*.
    MAIL_BACKEND = "file"
    MAIL_DIR: str | None = None
    MAIL_FROM = "Guichet <ne-pas-repondre@guichet.localhost>"
    SMTP_HOST = "localhost"
    SMTP_PORT = 25
    SMTP_USERNAME: str | None = None
    SMTP_PASSWORD: str | None = None
    SMTP_STARTTLS = False
    SMTP_TIMEOUT = 10


def load(config: dict, environ: os._Environ | dict) -> None:
    """Apply the plain variables every host sets (DATABASE_URL, REDIS_URL, SECRET_KEY)."""
    for key in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY"):
        if environ.get(key):
            config[key] = environ[key]


class ConfigError(RuntimeError):
    """The configuration is unsafe or incomplete; the app refuses to start."""


def check(config: dict) -> None:
    """Refuse to run production with development defaults, or any host with no storage."""
    if config["ENV"] == "production":
        if not config.get("SECRET_KEY") or config["SECRET_KEY"] == DEFAULT_SECRET_KEY:
            raise ConfigError("SECRET_KEY must be set to a secret value in production.")
        if len(config["SECRET_KEY"]) < 32:
            raise ConfigError("SECRET_KEY must be at least 32 characters long in production.")
    kind = config["STORAGE_BACKEND"]
    if kind not in ("filesystem", "s3"):
        raise ConfigError(f"STORAGE_BACKEND must be 'filesystem' or 's3', not {kind!r}.")
    if kind == "s3" and not config.get("S3_BUCKET"):
        raise ConfigError("STORAGE_BACKEND is 's3' but S3_BUCKET is not set.")
