"""Settings from the environment.

Embedded default (no variables set): SQLite in ./var, Celery tasks run in-process (no broker
server), DEBUG off over plain http on localhost, a random secret key generated on first start
and kept in var/secret_key. Production: set DJANGO_DEBUG=0 (HTTPS-only cookies, HSTS, SSL
redirect), DJANGO_SECRET_KEY, DATABASE_URL (PostgreSQL), REDIS_URL and DJANGO_ALLOWED_HOSTS.
Debug pages only when asked for: DJANGO_DEBUG=1.
"""
import os
import secrets
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("DIPTYCH_VAR_DIR", BASE_DIR / "var"))


def _local_secret_key(path: Path) -> str:
    """The installation's own key: made once (mode 0600), then read; link() makes the first of
    several starting processes win."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(50))
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip()


DEBUG = os.environ.get("DJANGO_DEBUG") == "1"
# A production installation says DJANGO_DEBUG=0 (deploy/diptych.env.example): HTTPS settings
# below, and its key must come from the environment (shared by every web process).
PRODUCTION = os.environ.get("DJANGO_DEBUG") == "0"
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or (
    None if PRODUCTION else _local_secret_key(VAR_DIR / "secret_key"))
if not SECRET_KEY:
    raise RuntimeError("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG=0")
ALLOWED_HOSTS = os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")
# Behind a TLS proxy on another origin, e.g. "https://diptych.example.org" (comma-separated).
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("DJANGO_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served locally: no CDN on offline machines
    "projects",
    "annotation",
    "scoring",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "projects.api_input.JsonErrorsForApiMiddleware",
    "projects.api_input.RefuseNulMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "annotation.middleware.NoStoreCodingMiddleware",
]

ROOT_URLCONF = "diptych.urls"
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "DIRS": [BASE_DIR / "templates"],
    "APP_DIRS": True,
    "OPTIONS": {"context_processors": [
        "django.template.context_processors.request",
        "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages",
    ]},
}]
WSGI_APPLICATION = "diptych.wsgi.application"

DATABASES = {"default": dj_database_url.config(
    default=f"sqlite:///{VAR_DIR / 'diptych.sqlite3'}", conn_max_age=60)}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # The embedded default has a run thread writing progress while pages read: WAL lets
    # readers go on during a write, IMMEDIATE avoids lock-upgrade deadlocks.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"init_command": "PRAGMA journal_mode=WAL;", "transaction_mode": "IMMEDIATE",
         "timeout": 20})
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
# Outside production static files are served from the app folders (no collectstatic needed).
WHITENOISE_USE_FINDERS = not PRODUCTION
MEDIA_ROOT = Path(os.environ.get("DIPTYCH_MEDIA_ROOT", VAR_DIR / "media"))

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "projects:project-list"
LOGOUT_REDIRECT_URL = "login"

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "diptych.token_auth.ExpiringTokenAuthentication",
    ],
    # JSON bodies: size and nesting depth bounded (projects.api_input).
    "DEFAULT_PARSER_CLASSES": ["projects.api_input.BoundedJSONParser",
                               "rest_framework.parsers.FormParser",
                               "rest_framework.parsers.MultiPartParser"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 100,
    # Infrastructure faults (database gone) answer 503 + Retry-After, not a bare 500.
    "EXCEPTION_HANDLER": "diptych.security.api_exception_handler",
    # Only views that name a throttle class are throttled (the token endpoint: "login").
    "DEFAULT_THROTTLE_RATES": {"login": os.environ.get("DIPTYCH_TOKEN_RATE", "10/min")},
    # DRF's own client address: REMOTE_ADDR, never X-Forwarded-For (see DIPTYCH_TRUSTED_PROXIES).
    "NUM_PROXIES": 0,
}
# Failed logins: LOGIN_MAX_FAILURES per (username, client address) lock that pair for
# LOGIN_LOCK_SECONDS, on every way in (login form, /admin/login/, /api/token/).
AUTHENTICATION_BACKENDS = ["diptych.security.LockingModelBackend"]
# Reverse proxies whose X-Forwarded-For is believed (addresses or networks, comma-separated);
# none by default, so the header is ignored and REMOTE_ADDR is the client.
DIPTYCH_TRUSTED_PROXIES = [p.strip() for p in os.environ.get(
    "DIPTYCH_TRUSTED_PROXIES", "").split(",") if p.strip()]
# API tokens expire this many days after they are made (0: never); a new password revokes them.
DIPTYCH_TOKEN_TTL_DAYS = int(os.environ.get("DIPTYCH_TOKEN_TTL_DAYS", 90))
LOGIN_MAX_FAILURES = int(os.environ.get("DIPTYCH_LOGIN_MAX_FAILURES", 5))
LOGIN_LOCK_SECONDS = int(os.environ.get("DIPTYCH_LOGIN_LOCK_SECONDS", 15 * 60))
# Password spraying (one wrong password for each of many usernames): failures from one address
# over all usernames lock that address for LOGIN_LOCK_SECONDS too.
LOGIN_MAX_FAILURES_PER_ADDRESS = int(os.environ.get("DIPTYCH_LOGIN_MAX_FAILURES_PER_ADDRESS", 20))
SPECTACULAR_SETTINGS = {
    "TITLE": "Diptych API", "VERSION": "0.1.0",
    "SWAGGER_UI_DIST": "SIDECAR", "SWAGGER_UI_FAVICON_HREF": "SIDECAR", "REDOC_DIST": "SIDECAR",
    # The schema and docs list every endpoint: logged-in users (session or token) only.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "ENUM_NAME_OVERRIDES": {"DatasetStatusEnum": "projects.models.dataset.Dataset.Status",
                            "RunStatusEnum": "projects.models.run.RunStatus",
                            "IntrusionKindEnum": "annotation.intrusion_models.IntrusionKind",
                            "SaveStatusEnum": ["created", "changed", "unchanged", "conflict"]},
}

# Celery: Redis in production; in the embedded default tasks run eagerly in-process.
REDIS_URL = os.environ.get("REDIS_URL")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
CELERY_TASK_ALWAYS_EAGER = REDIS_URL is None
# The login-failure counters and API throttles live in the cache: shared Redis in production
# (every web process sees the same counts), process memory in the embedded default.
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": REDIS_URL, "KEY_PREFIX": "diptych"}}
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("DIPTYCH_CELERY_QUEUE", "diptych")
# A worker killed mid-task (machine lost, OOM): its pool child's task is requeued at once
# (reject_on_worker_lost); a whole worker's unacknowledged task comes back after the broker's
# visibility timeout, which must exceed the longest task (an engine run). See docs/deploy.md.
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": int(os.environ.get("DIPTYCH_BROKER_VISIBILITY_TIMEOUT", 6 * 3600)),
    "unacked_restore_interval": int(os.environ.get("DIPTYCH_BROKER_RESTORE_INTERVAL", 10)),
    "unacked_restore_throttle": 1,
}

# Engine runs and data sets (the projects app).
# Without a broker, runs execute in a background thread of the web process so a request never
# waits for the engine; with REDIS_URL they go to Celery workers.
DIPTYCH_RUNS_IN_THREAD = CELERY_TASK_ALWAYS_EAGER
# Embeddings are cached per installation (model + content hash): reruns and resumed runs reuse them.
DIPTYCH_EMBEDDING_CACHE = Path(os.environ.get(
    "DIPTYCH_EMBEDDING_CACHE", Path.home() / ".cache" / "diptych" / "embeddings"))
# Uploaded data sets, run outputs and thumbnails live under MEDIA_ROOT/{datasets,runs,thumbnails};
# MEDIA_ROOT is never served directly: every file goes through a view that checks membership.
# Who may create projects: "pi-group" (staff and members of the DIPTYCH_PI_GROUP group) or
# "anyone" (every logged-in user).
DIPTYCH_PROJECT_CREATORS = os.environ.get("DIPTYCH_PROJECT_CREATORS", "pi-group")
DIPTYCH_PI_GROUP = os.environ.get("DIPTYCH_PI_GROUP", "PI")
# Server folders that may be imported in place (os.pathsep-separated): by staff, and by the PIs
# of projects an administrator granted one of them (admin: project → data root grants).
DIPTYCH_ALLOWED_DATA_ROOTS = [Path(p).resolve() for p in os.environ.get(
    "DIPTYCH_ALLOWED_DATA_ROOTS", str(BASE_DIR.parent / "shared" / "data")).split(os.pathsep) if p]
# Zip uploads: caps that turn a zip bomb into a clear error.
DIPTYCH_MAX_ARCHIVE_BYTES = int(os.environ.get("DIPTYCH_MAX_ARCHIVE_BYTES", 8 * 1024 ** 3))
DIPTYCH_MAX_ARCHIVE_FILES = int(os.environ.get("DIPTYCH_MAX_ARCHIVE_FILES", 500_000))
DIPTYCH_MAX_COMPRESSION_RATIO = int(os.environ.get("DIPTYCH_MAX_COMPRESSION_RATIO", 200))
# What one user's uploaded data sets may occupy in all (tables + extracted images).
DIPTYCH_USER_STORAGE_QUOTA_BYTES = int(os.environ.get("DIPTYCH_USER_STORAGE_QUOTA_BYTES",
                                                      20 * 1024 ** 3))
# How the import checks images: "full" decodes every image (catches truncated files).
DIPTYCH_IMPORT_CHECK_IMAGES = os.environ.get("DIPTYCH_IMPORT_CHECK_IMAGES", "full")
DIPTYCH_ENGINE_WORKERS = int(os.environ.get("DIPTYCH_ENGINE_WORKERS", 2))
# Copy each run's model vectors into its folder (self-contained) or leave them in the embedding
# cache only ("0": at scale they are most of a run folder's bytes; nothing on the platform reads them).
DIPTYCH_RUN_COPY_EMBEDDINGS = os.environ.get("DIPTYCH_RUN_COPY_EMBEDDINGS", "1") != "0"
# Engine runs of one project queued or running at once (a run can take hours of CPU).
DIPTYCH_MAX_ACTIVE_RUNS_PER_PROJECT = int(os.environ.get("DIPTYCH_MAX_ACTIVE_RUNS_PER_PROJECT", 1))
# Sharded embedding (docs/deploy.md): a run over more pairs than one shard embeds through
# Celery tasks of DIPTYCH_EMBEDDING_SHARD_SIZE pairs each (0 = never shard), sent to
# DIPTYCH_EMBEDDING_QUEUE (GPU workers listen there; default: the normal queue). A worker picks
# its device with DIPTYCH_EMBEDDING_DEVICE ("auto", "cpu", "cuda", "cuda:1").
DIPTYCH_EMBEDDING_SHARD_SIZE = int(os.environ.get("DIPTYCH_EMBEDDING_SHARD_SIZE", 2000))
DIPTYCH_EMBEDDING_QUEUE = os.environ.get("DIPTYCH_EMBEDDING_QUEUE", CELERY_TASK_DEFAULT_QUEUE)
DIPTYCH_EMBEDDING_DEVICE = os.environ.get("DIPTYCH_EMBEDDING_DEVICE", "auto")
# A shard whose worker stopped refreshing it for this long may be taken by another delivery.
DIPTYCH_EMBEDDING_LEASE_S = int(os.environ.get("DIPTYCH_EMBEDDING_LEASE_S", 300))

if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = os.environ.get("DJANGO_SECURE_SSL_REDIRECT", "1") == "1"
    SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
# Model choices offered on the run form: the offline defaults first (preselected), then specs an
# administrator configured because their weights are on this server, e.g.
# DIPTYCH_JOINT_MODELS="clip:ViT-B-32@/models/clip_vit_b32.bin" (comma-separated).
def _model_list(variable: str, defaults: list[str]) -> list[str]:
    extra = [s.strip() for s in os.environ.get(variable, "").split(",") if s.strip()]
    return defaults + [s for s in extra if s not in defaults]


DIPTYCH_MODEL_CHOICES = {
    "text": _model_list("DIPTYCH_TEXT_MODELS", ["use-multilingual"]),
    "image": _model_list("DIPTYCH_IMAGE_MODELS", ["efficientnet-lite0"]),
    "joint": _model_list("DIPTYCH_JOINT_MODELS", ["rcca"]),
}
