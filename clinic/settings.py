"""Myelin settings: one file, driven by environment variables (documented in .env.example).

MYELIN_MODE=production turns on every safeguard and refuses the demo relaxations; the default,
development, is what `make run` and `make test` use.
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from clinic.env import (
    database_from_url,
    env_bool,
    env_choice,
    env_int,
    env_list,
    env_port,
    env_str,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("MYELIN_VAR_DIR", str(BASE_DIR / "var")))

MODE = env_choice("MYELIN_MODE", "development", ["development", "production"])
PRODUCTION = MODE == "production"

if not PRODUCTION:
    # `make run` / `make test` write the addresses of the services they started here, so a
    # plain `.venv/bin/pytest` or `manage.py shell` finds the same database. Real environment
    # variables always win.
    stack_env = VAR_DIR / "stack.env"
    if stack_env.exists():
        for line in stack_env.read_text(encoding="utf-8").splitlines():
            key, sep, value = line.partition("=")
            if sep and key and not key.startswith("#"):
                os.environ.setdefault(key.strip(), value.strip())

# Django's debug pages show tracebacks, settings and, on a 404, every route: only when a developer
# asks for them. `make run` serves the demo without them, with the app's own error pages.
DEBUG = env_bool("DJANGO_DEBUG", default=False)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DJANGO_DEBUG must be false when MYELIN_MODE=production.")

SECRET_KEY = env_str(
    "DJANGO_SECRET_KEY",
    default=None if PRODUCTION else "dev-only-insecure-key-never-use-in-production-6f1c2b",
    required=PRODUCTION,
)
if PRODUCTION and len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be at least 50 characters in production.")

ALLOWED_HOSTS: list[str] = env_list(
    "DJANGO_ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"]
)
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS is required when MYELIN_MODE=production.")
CSRF_TRUSTED_ORIGINS: list[str] = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

# Demo relaxations: the demo clinic may skip multi-factor enrolment so a newcomer can look
# around at once. Production refuses it outright.
DEMO_MODE = env_bool("MYELIN_DEMO_MODE", default=not PRODUCTION)
if PRODUCTION and DEMO_MODE:
    raise ImproperlyConfigured("MYELIN_DEMO_MODE cannot be enabled when MYELIN_MODE=production.")
MYELIN_DEMO_PASSWORD = env_str("MYELIN_DEMO_PASSWORD", "myelin-demo-2026")
# The demo clinic relaxes MFA by default so a newcomer can look around at once; anywhere else
# (and always in production) every signed-in user must pass a TOTP check.
MFA_REQUIRED = env_bool("MYELIN_MFA_REQUIRED", default=not DEMO_MODE)
if PRODUCTION and not MFA_REQUIRED:
    raise ImproperlyConfigured(
        "MYELIN_MFA_REQUIRED cannot be disabled when MYELIN_MODE=production."
    )

# No django.contrib.admin: users, roles and care teams are managed on the app's own pages
# (clinic.accounts.staff), under the same rules and with every change in the audit trail.
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "pgtrigger",
    "pghistory",
    "clinic.apps.ClinicConfig",
    "clinic.accounts",
    "clinic.audit",
    "patients",
    "treatments",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "clinic.middleware.RefuseNulBytesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "clinic.accounts.middleware.SessionLimitsMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "clinic.accounts.middleware.LoginRequiredHtmxMiddleware",
    "clinic.accounts.middleware.MfaRequiredMiddleware",
    "clinic.accounts.middleware.PasswordChangeRequiredMiddleware",
    "pghistory.middleware.HistoryMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "clinic.urls"
WSGI_APPLICATION = "clinic.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
                "clinic.context_processors.navigation",
                "clinic.context_processors.permissions",
                "treatments.alerts.context_processors.alert_count",
            ],
        },
    },
]

# ---------------------------------------------------------------------------------------------
# Database: PostgreSQL is the source of truth.
# ---------------------------------------------------------------------------------------------
_database_url = env_str("DATABASE_URL", default=None, required=PRODUCTION)
if not _database_url:
    raise ImproperlyConfigured(
        "DATABASE_URL is not set. Run `make run` (it starts PostgreSQL and writes var/stack.env), "
        "or set DATABASE_URL=postgres://user:password@host:port/dbname."
    )
DATABASES = {"default": database_from_url("DATABASE_URL", _database_url)}
DATABASES["default"]["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# The history triggers (django-pgtrigger, django-pghistory) read this setting inside an
# exception block; when it is missing each row takes the block's error path, whose cost grows
# with the number of rows the statement has already queued, so a statement writing N rows costs
# O(N^2). Defining it (empty: nothing ignored) keeps every row on the fast path. The other such
# read, pghistory's context, is set by whatever writes in bulk (requests, the sweeps).
DATABASES["default"]["OPTIONS"] = {"options": "-c pgtrigger.ignore={}"}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL", default=None, required=PRODUCTION) or "redis://127.0.0.1:6379/0"

# The cache holds copies of sessions (see clinic.accounts.sessions), nothing that cannot be
# rebuilt from PostgreSQL. Short time-outs: a stalled Redis must not stall the pages.
# The quality dashboard's figures are kept this long (treatments.quality.services); 0: always
# worked out afresh.
QUALITY_CACHE_SECONDS = env_int("MYELIN_QUALITY_CACHE_SECONDS", 600, minimum=0, maximum=86400)

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "myelin",
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    }
}

# ---------------------------------------------------------------------------------------------
# Accounts, authentication and sessions
# ---------------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Idle time-out and absolute limit, enforced on the server (SessionLimitsMiddleware).
SESSION_IDLE_TIMEOUT = timedelta(minutes=env_int("MYELIN_SESSION_IDLE_MINUTES", 15, minimum=1))
SESSION_ABSOLUTE_LIMIT = timedelta(hours=env_int("MYELIN_SESSION_ABSOLUTE_HOURS", 12, minimum=1))
SESSION_COOKIE_AGE = int(SESSION_ABSOLUTE_LIMIT.total_seconds())
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_ENGINE = "clinic.accounts.sessions"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = (
    False  # htmx reads the token from the page, not the cookie; harmless either way
)
SECURE_COOKIES = env_bool("MYELIN_SECURE_COOKIES", default=PRODUCTION)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES

# Login throttling (clinic.accounts.throttling): in 15 minutes, at most 5 failures per username
# and per username-and-address (a successful sign-in clears these), and at most 20 per address
# whatever the usernames (never cleared by a success), so one user's typos do not lock out a
# whole ward behind one address.
AXES_FAILURE_LIMIT = env_int("MYELIN_LOGIN_FAILURE_LIMIT", 5, minimum=1)
LOGIN_ADDRESS_FAILURE_LIMIT = env_int("MYELIN_LOGIN_ADDRESS_FAILURE_LIMIT", 20, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = ["username", ["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_HANDLER = "clinic.accounts.throttling.ClinicAxesHandler"
# Reverse proxies in front of the app (a TLS terminator is 1): the client's address is then
# read from X-Forwarded-For, so the per-address limit is per client, not per proxy.
TRUSTED_PROXY_COUNT = env_int("MYELIN_TRUSTED_PROXIES", 0, minimum=0, maximum=5)
AXES_CLIENT_IP_CALLABLE = "clinic.accounts.throttling.client_address"
AXES_LOCKOUT_CALLABLE = "clinic.accounts.views.lockout"
AXES_VERBOSE = False
AXES_ENABLED = env_bool("MYELIN_LOGIN_THROTTLING", default=True)

OTP_TOTP_ISSUER = "Myelin"

# ---------------------------------------------------------------------------------------------
# Security headers
# ---------------------------------------------------------------------------------------------
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.NONE],
    "object-src": [CSP.NONE],
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_HSTS_SECONDS = env_int("MYELIN_HSTS_SECONDS", 31536000 if PRODUCTION else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = PRODUCTION
SECURE_HSTS_PRELOAD = PRODUCTION
SECURE_SSL_REDIRECT = env_bool("MYELIN_SSL_REDIRECT", default=PRODUCTION)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if PRODUCTION else None
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# ---------------------------------------------------------------------------------------------
# Internationalisation and time: dates are the clinic's, beat runs in UTC.
# ---------------------------------------------------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = env_str("MYELIN_TIME_ZONE", "Europe/London")
USE_I18N = True
USE_TZ = True

# ---------------------------------------------------------------------------------------------
# Static files: served by the app itself (whitenoise); no CDN.
# ---------------------------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("MYELIN_STATIC_ROOT", str(VAR_DIR / "static")))
STATICFILES_DIRS = [BASE_DIR / "clinic" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION

# ---------------------------------------------------------------------------------------------
# Email
# ---------------------------------------------------------------------------------------------
_mail_backend = env_str(
    "MYELIN_EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if PRODUCTION
    else "django.core.mail.backends.console.EmailBackend",
)
# Read (and so validated) whatever the backend, so a typo fails now rather than at go-live.
_smtp_options: dict[str, object] = {
    "host": env_str("MYELIN_EMAIL_HOST", "localhost"),
    "port": env_port("MYELIN_EMAIL_PORT", 25),
    "username": env_str("MYELIN_EMAIL_USER", ""),
    "password": env_str("MYELIN_EMAIL_PASSWORD", ""),
    "use_tls": env_bool("MYELIN_EMAIL_TLS", default=False),
    "timeout": 10,
}
MAILERS = {
    "default": {
        "BACKEND": _mail_backend,
        "OPTIONS": _smtp_options if _mail_backend.endswith("smtp.EmailBackend") else {},
    }
}
DEFAULT_FROM_EMAIL = env_str("MYELIN_EMAIL_FROM", "myelin@localhost")

# ---------------------------------------------------------------------------------------------
# Celery: Redis carries messages only; beat runs in UTC.
# ---------------------------------------------------------------------------------------------
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "UTC"
CELERY_ENABLE_UTC = True
CELERY_TASK_ACKS_LATE = True  # a worker killed mid-task leaves the message to be redelivered
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A killed task runs again within minutes, never a day late (the sweeps are level-triggered,
# so a run repeated or cut short changes nothing; tests/sweeps/test_killed_worker.py).
# - A worker *child* killed mid-task (the out-of-memory killer) is seen by the worker's main
#   process, which sends the task again after TASK_RETRY_DELAY_SECONDS, at most max_retries
#   (Celery's 3) times, so a task that kills every child it runs in cannot loop for ever. If
#   that send fails, the message goes back on the queue instead of being acknowledged.
# - A whole worker killed (its container, its machine) leaves its message unacknowledged in
#   Redis, which hands it to another worker once the visibility timeout has passed; workers
#   look for such messages every restore interval × throttle seconds. The timeout must be
#   longer than the longest task, or a task still running is handed out a second time
#   (harmless here, but wasted work): the longest measured, the overdue sweep over a backlog
#   of 300,000 items at bench size, took 140 s (README, Performance).
CELERY_TASK_RETRY_ON_WORKER_LOST = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
TASK_RETRY_DELAY_SECONDS = 30
CELERY_TASK_ANNOTATIONS = {"*": {"default_retry_delay": TASK_RETRY_DELAY_SECONDS}}
_VISIBILITY_TIMEOUT_SECONDS = 10 * 60
_RESTORE_INTERVAL_SECONDS, _RESTORE_THROTTLE = 10, 6  # a scan a minute
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
    "visibility_timeout": _VISIBILITY_TIMEOUT_SECONDS,
    "unacked_restore_interval": _RESTORE_INTERVAL_SECONDS,
    "unacked_restore_throttle": _RESTORE_THROTTLE,
}
# How late a message lost with its whole worker can run again. A beat message must not expire
# before that unless the job's next message is due sooner (tests/sweeps/test_reliability.py).
TASK_REDELIVERY_SECONDS = (
    _VISIBILITY_TIMEOUT_SECONDS + _RESTORE_INTERVAL_SECONDS * _RESTORE_THROTTLE
)
HEARTBEAT_INTERVAL_SECONDS = env_int("MYELIN_HEARTBEAT_SECONDS", 60, minimum=5)
# How many workers one overdue sweep run is offered to (treatments.monitoring.tasks): each
# claims chunks with SKIP LOCKED, so more workers finish a large backlog sooner.
SWEEP_WORKERS = env_int("MYELIN_SWEEP_WORKERS", 2, minimum=1)
# Tasks are found by autodiscovery (clinic/celery.py): each sub-domain's tasks.py.


def _clinic_daily(*, hour: int, minute: int) -> crontab:
    """A daily UTC crontab at `hour:minute` clinic time, by the zone's standard (January)
    offset: beat runs in UTC, so across daylight saving the job moves by an hour of local time
    (02:10 becomes 03:10), never across midnight. The jobs compute their own clinic day."""
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    local = datetime(2026, 1, 15, hour, minute, tzinfo=ZoneInfo(TIME_ZONE))
    at = local.astimezone(UTC)
    return crontab(hour=at.hour, minute=at.minute)


# Every periodic job is level-triggered: a missed, repeated or concurrent run changes nothing.
CELERY_BEAT_SCHEDULE = {
    "heartbeat": {
        "task": "clinic.tasks.heartbeat",
        "schedule": float(HEARTBEAT_INTERVAL_SECONDS),
        "options": {"expires": HEARTBEAT_INTERVAL_SECONDS},
    },
    "critical-alert-emails": {
        "task": "treatments.send_critical_alert_emails",
        "schedule": 60.0,
        "options": {"expires": 60},
    },
    "escalate-critical-alerts": {
        "task": "treatments.escalate_unacknowledged",
        "schedule": 300.0,
        "options": {"expires": 300},
    },
    # Emergency access notices a burst deferred to the next hour (one per user per hour).
    "emergency-access-notices": {
        "task": "patients.emergency.notify_admins",
        "schedule": 300.0,
        "options": {"expires": 300},
    },
    "wake-snoozed-alerts": {
        "task": "treatments.wake_snoozed",
        "schedule": 300.0,
        "options": {"expires": 300},
    },
    # Results whose evaluation task was lost (treatments.monitoring.evaluation_queue).
    "evaluate-pending-results": {
        "task": "treatments.evaluate_pending_results",
        "schedule": 300.0,
        "options": {"expires": 300},
    },
    # The whole clinic's quality dashboard, kept worked out (treatments.quality.services).
    "refresh-quality-dashboard": {
        "task": "treatments.refresh_quality_dashboard",
        "schedule": max(60.0, QUALITY_CACHE_SECONDS / 2),
        "options": {"expires": max(60, QUALITY_CACHE_SECONDS // 2)},
    },
    # Natalizumab exposure crosses 24 months with no result to trigger a reassessment.
    "reassess-pml-risk": {
        "task": "treatments.reassess_pml_risk",
        "schedule": crontab(minute=20, hour=4),
        "options": {"expires": 3600},
    },
    # Hourly in UTC; the task itself waits for the digest hour in the clinic's time zone.
    "daily-alert-digests": {
        "task": "treatments.send_daily_digests",
        "schedule": crontab(minute=5),
        "options": {"expires": 3000},
    },
    # The sweeps (treatments.monitoring.sweeps) compute "today" in the clinic's time zone themselves.
    "sweep-overdue-monitoring": {
        "task": "treatments.sweep_overdue",
        "schedule": crontab(minute="1,16,31,46"),
        "options": {"expires": 900},
    },
    "sweep-due-soon-monitoring": {
        "task": "treatments.sweep_due_soon",
        "schedule": crontab(minute="2,17,32,47"),
        "options": {"expires": 900},
    },
    "sweep-breached-referrals": {
        "task": "treatments.sweep_breached_referrals",
        "schedule": crontab(minute="3,18,33,48"),
        "options": {"expires": 900},
    },
    "sweep-triage-breaches": {
        "task": "treatments.sweep_triage_breaches",
        "schedule": crontab(minute="4,19,34,49"),
        "options": {"expires": 900},
    },
    # Daily jobs run early in the clinic's morning: the monitoring horizon moves on first, then
    # derived statuses (NEDA rolls over on 1 January), then the EDSS gaps they reveal.
    "sweep-extend-monitoring": {
        "task": "treatments.sweep_extend_monitoring",
        "schedule": _clinic_daily(hour=2, minute=10),
        "options": {"expires": 6 * 3600},
    },
    "refresh-clinical-status": {
        "task": "patients.records.tasks.refresh_clinical_status",
        "schedule": _clinic_daily(hour=2, minute=40),
        "options": {"expires": 6 * 3600},
    },
    "sweep-missing-edss": {
        "task": "treatments.sweep_missing_edss",
        "schedule": _clinic_daily(hour=3, minute=10),
        "options": {"expires": 6 * 3600},
    },
}

# ---------------------------------------------------------------------------------------------
# Logging: never patient data. Every line goes through one handler whose filter
# (clinic.logs.RedactingFilter) turns request paths into the routes they matched, removes other
# identifiers and query strings, and keeps exception types and tracebacks but not their
# messages. No logger may bypass it: none stops propagation without a handler of its own, or
# Python's last-resort handler would print the record raw. Gunicorn's lines go through the same
# filter (GunicornLogger), and PostgreSQL logs no statements (devstack, docker-compose.yml).
# ---------------------------------------------------------------------------------------------
LOG_LEVEL = env_choice("MYELIN_LOG_LEVEL", "INFO", ["DEBUG", "INFO", "WARNING", "ERROR"])
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "clinic.logs.RedactingFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]}
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Django's own configuration gives these loggers handlers of their own (printing the
        # path of every request); here they reach the console through the filter like the rest.
        "django": {"handlers": [], "level": LOG_LEVEL, "propagate": True},
        "django.server": {"handlers": [], "level": "INFO", "propagate": True},
        # At DEBUG this logger prints every SQL statement with its values: never below INFO.
        "django.db.backends": {"level": "INFO"},
        # django-axes logs every sign-in at INFO (with the username masked); failures and
        # lockouts are WARNING and still shown.
        "axes": {"level": "WARNING"},
    },
}
# Alerts and notifications.
# The public address of the site, for links in emails (no trailing slash). `make run` sets it
# to the address it serves when it is not given; MYELIN_BASE_URL is its older name.
MYELIN_SITE_URL = env_str(
    "MYELIN_SITE_URL", env_str("MYELIN_BASE_URL", "http://127.0.0.1:8000")
).rstrip("/")
if not MYELIN_SITE_URL.startswith(("http://", "https://")) or " " in MYELIN_SITE_URL:
    raise ImproperlyConfigured(
        "MYELIN_SITE_URL must be the site's public address, e.g. https://myelin.hospital.example"
    )
ALERT_MAX_SNOOZE_DAYS = env_int("MYELIN_ALERT_MAX_SNOOZE_DAYS", 30, minimum=1, maximum=365)
ALERT_ESCALATION_MINUTES = env_int("MYELIN_ALERT_ESCALATION_MINUTES", 60, minimum=5)
ALERT_DIGEST_HOUR = env_int("MYELIN_ALERT_DIGEST_HOUR", 7, minimum=0, maximum=23)
# An alert email claimed but never confirmed as sent (its worker died) is sent again after
# this many minutes: at least once (treatments.alerts.outbox).
ALERT_EMAIL_RETRY_MINUTES = env_int("MYELIN_ALERT_EMAIL_RETRY_MINUTES", 5, minimum=1, maximum=60)

# Break glass (patients.emergency): requests per clinician in any 24 hours, matched or not.
BREAK_GLASS_PER_DAY = env_int("MYELIN_BREAK_GLASS_PER_DAY", 3, minimum=1, maximum=50)

# Patient-reported questionnaires (treatments.pro): how long a link lives, how many wrong dates
# of birth lock it, and how many requests one address may make to the public pages.
PRO_LINK_DAYS = env_int("MYELIN_PRO_LINK_DAYS", 14, minimum=1, maximum=60)
PRO_DOB_ATTEMPTS = env_int("MYELIN_PRO_DOB_ATTEMPTS", 5, minimum=1, maximum=20)
PRO_RATE_LIMIT = env_int("MYELIN_PRO_RATE_LIMIT", 60, minimum=5)  # requests per address ...
PRO_RATE_WINDOW_SECONDS = 600  # ... in this window

# Clinic-wide choices that change behaviour.
LABEL_REGION = env_choice("MYELIN_LABEL_REGION", "EU", ["US", "EU"])
# The FHIR export (treatments.fhir): the identifier system of this hospital's MRNs.
FHIR_MRN_SYSTEM = env_str("MYELIN_FHIR_MRN_SYSTEM", "https://myelin.invalid/fhir/NamingSystem/mrn")

# Lab results over HL7 v2 MLLP (manage.py mllp_listener; make run starts it when enabled).
MLLP_ENABLED = env_bool("MYELIN_MLLP_ENABLED", default=False)
MLLP_HOST = env_str("MYELIN_MLLP_HOST", "127.0.0.1")
MLLP_PORT = env_port("MYELIN_MLLP_PORT", 2575)


# ---------------------------------------------------------------------------------------------
# The patient page (patients.records.timeline): what each part of Myelin shows on it, in order.
# Dotted paths, so the patients app never imports treatments. Every source runs a fixed number
# of queries whatever the patient's history (the query budgets in tests/performance pin it).
# ---------------------------------------------------------------------------------------------
PATIENT_PAGE_TIMELINE = [
    "patients.records.sources.clinical_timeline",
    "patients.referrals.services.referral_timeline",
    "treatments.plans.page.dmt_timeline",
    "treatments.plans.page.gate_override_timeline",
    "treatments.plans.page.results_timeline",
    "treatments.plans.page.symptomatic_timeline",
    "treatments.safety.page.side_effect_timeline",
    "treatments.rehab.services.rehab_timeline",
    "treatments.family.page.family_timeline",
    "treatments.transplant.page.transplant_timeline",
    "treatments.triage.page.triage_timeline",
    "treatments.infusions.page.infusion_timeline",
    "patients.mdt.services.mdt_timeline",
    "treatments.supportive.services.supportive_timeline",
]
PATIENT_PAGE_PERIODS = ["treatments.plans.page.dmt_periods"]
# Facts in the patient header, read from annotations on the query that loads the patient.
PATIENT_PAGE_HEADER = ["treatments.plans.header.patient_header"]
# What marking a patient deceased or transferred does elsewhere (asked first, then done), each
# `fn(patient, *, reason, by, dry_run) -> list of lines in plain words`.
PATIENT_STATUS_CONSEQUENCES = ["treatments.plans.status.status_consequences"]
# (DOM id and URL segment, title, audit category when opened, source)
PATIENT_PAGE_PANELS = [
    (
        "treatments-panel",
        "DMT and monitoring",
        "treatment",
        "treatments.plans.page.treatments_panel",
    ),
    (
        "safety-panel",
        "Safety: dose gates, PML risk, side effects",
        "monitoring",
        "treatments.safety.page.safety_panel",
    ),
    ("referral-panel", "Referrals", "referral", "patients.referrals.services.referral_panel"),
    ("rehab-panel", "Rehabilitation", "rehab", "treatments.rehab.services.rehab_panel"),
    (
        "supportive-panel",
        "Supportive care",
        "supportive",
        "treatments.supportive.services.supportive_panel",
    ),
]
# The clinical records that can be amended or marked entered in error (patients.corrections):
# each a `CorrectableKind` saying how it is found, shown, amended and what it derives.
CORRECTABLE_RECORDS = [
    "patients.records.corrections.COURSE_STATE",
    "patients.records.corrections.EDSS",
    "patients.records.corrections.RELAPSE",
    "patients.records.corrections.MRI",
    "patients.referrals.corrections.REFERRAL_NOTE",
    "treatments.corrections.kinds.RESULT",
    "treatments.corrections.kinds.SIDE_EFFECT",
    "treatments.corrections.kinds.DOSE",
    "treatments.corrections.kinds.SYMPTOMATIC",
    "treatments.corrections.kinds.REHAB_SESSION",
]

# ---------------------------------------------------------------------------------------------
# Audit trail protection (clinic.audit.protection, clinic.audit.checkpoints)
# ---------------------------------------------------------------------------------------------
# The running app's own database role. `migrate`, run as the tables' owner, creates it when
# missing and grants it read and write on the clinical tables but only read and append on the
# audit trail and the history tables; owning nothing, it cannot disable their triggers either.
# The app's DATABASE_URL should name this role, migrate's the owner. Empty: no role is managed.
APP_DB_ROLE = env_str("MYELIN_APP_DB_ROLE", "myelin_app")
if APP_DB_ROLE and not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", APP_DB_ROLE):
    raise ImproperlyConfigured(
        f"The setting MYELIN_APP_DB_ROLE must be a lower-case database role name, not "
        f"{APP_DB_ROLE!r}."
    )
# Read by migrate only: sets the app role's password (leave unset where the role is managed by a
# database administrator, or authenticated otherwise).
APP_DB_PASSWORD = env_str("MYELIN_APP_DB_PASSWORD", "")

# Checkpoints anchor the hash chain outside the database: the head's id, hash and row count,
# signed with a key the database never holds, appended to a file and optionally mailed, so
# `audit verify` notices a trail rewritten by someone who can write to the database directly.
AUDIT_CHECKPOINT_FILE = Path(
    env_str("MYELIN_AUDIT_CHECKPOINT_FILE", str(VAR_DIR / "audit-checkpoints.log"))
)
# Only the process that writes checkpoints (the Celery worker) and whoever runs `audit verify`
# need it. Unset in production: the checkpoint task and `audit verify` fail with a message.
AUDIT_CHECKPOINT_KEY = env_str(
    "MYELIN_AUDIT_CHECKPOINT_KEY",
    default=None if PRODUCTION else "dev-only-audit-checkpoint-key-never-use-in-production",
)
if AUDIT_CHECKPOINT_KEY and len(AUDIT_CHECKPOINT_KEY) < 32:
    raise ImproperlyConfigured("MYELIN_AUDIT_CHECKPOINT_KEY must be at least 32 characters.")
AUDIT_CHECKPOINT_MINUTES = env_int("MYELIN_AUDIT_CHECKPOINT_MINUTES", 15, minimum=1, maximum=1440)
AUDIT_CHECKPOINT_MAIL_TO: list[str] = env_list("MYELIN_AUDIT_CHECKPOINT_MAIL_TO", [])
CELERY_BEAT_SCHEDULE["audit-checkpoint"] = {
    "task": "clinic.audit.write_checkpoint",
    "schedule": 60.0 * AUDIT_CHECKPOINT_MINUTES,
    "options": {"expires": 60 * AUDIT_CHECKPOINT_MINUTES},
}

# Tasks queued by name (after commit, with the patient's id) when an EDSS is recorded on the
# patient record, so the patients app never imports treatments: the neurology review it answers
# is closed (treatments.plans.duties). The daily sweep does the same if a message is lost.
EDSS_RECORDED_TASKS = ["treatments.close_reviews_by_edss"]
