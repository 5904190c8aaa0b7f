"""Settings for the tracker, all from environment variables with safe local defaults.

Each section below is one concern; API.md "Configuration" lists the variables.
"""

import datetime
import hashlib
import os
import secrets
import tempfile
from pathlib import Path
from urllib.parse import urlparse

import dj_database_url
from corsheaders.defaults import default_headers as default_cors_headers
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


def local_secret_key(path: Path) -> str:
    """A random key made on first use and kept in a file only its owner reads (ignored by git)."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(descriptor, "w") as file:
        file.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


# --- Core -----------------------------------------------------------------------------------------
# DEBUG is off unless asked for (`make run` turns it on). Commands typed in a shell (`manage.py`, which sets
# TRACKER_COMMAND_LINE) and `make run` need no secret in the environment: they use a local one made on first
# use in `.secret_key`. A served deployment (gunicorn, `tracker.wsgi`) with DEBUG off requires SECRET_KEY.
DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not (DEBUG or env_bool("TRACKER_COMMAND_LINE")):
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = local_secret_key(BASE_DIR / ".secret_key")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "django_countries",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "axes",
    "incidents",
]

MIDDLEWARE = [
    "incidents.middleware.ApiCacheHeadersMiddleware",
    "incidents.middleware.BodySizeLimitMiddleware",
    "incidents.middleware.DatabaseUnavailableMiddleware",
    "tracker.replicas.ReplicaReadMiddleware",  # after the one above: sees a failing replica first
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its 429 answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "tracker.urls"
WSGI_APPLICATION = "tracker.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------
# SQLite by default. WAL lets readers run beside a writer; IMMEDIATE transactions take the write lock
# up front and the busy timeout makes concurrent writers wait for it instead of failing.
# Connections persist between requests (opening one, and registering SQLite's functions, costs about as
# much as a small query); a health check at the start of each request replaces a broken one.
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("CONN_MAX_AGE", 600),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            # A read-mostly service: a 64 MB page cache and a memory map per connection, sorts in memory.
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-65536; "
                "PRAGMA mmap_size=268435456; PRAGMA temp_store=MEMORY;"
            ),
        }
    )
    # Tests run against a real file too (an in-memory database shares one connection between threads).
    checkout = hashlib.sha256(str(BASE_DIR).encode()).hexdigest()[:8]
    test_file = Path(tempfile.gettempdir()) / f"tracker-test-{checkout}.sqlite3"
    DATABASES["default"].setdefault("TEST", {"NAME": str(test_file)})

# Read replicas of a PostgreSQL primary (API.md "Scale"; `tracker/replicas.py`): aliases replica1, replica2, …
# A down server should fail fast, so that a read can go elsewhere.
REPLICA_URLS = env_list("DATABASE_REPLICA_URLS")
REPLICA_MAX_LAG_SECONDS = float(os.environ.get("REPLICA_MAX_LAG_SECONDS") or 30)
REPLICA_CHECK_SECONDS = float(os.environ.get("REPLICA_CHECK_SECONDS") or 5)
# A client's reads stay on the primary after its write for as long as a replica deemed healthy may lag.
READ_YOUR_WRITES_SECONDS = float(
    os.environ.get("READ_YOUR_WRITES_SECONDS") or REPLICA_MAX_LAG_SECONDS + REPLICA_CHECK_SECONDS
)
if REPLICA_URLS:
    if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured("DATABASE_REPLICA_URLS needs a PostgreSQL DATABASE_URL (streaming replicas).")
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 2)
    for number, url in enumerate(REPLICA_URLS, start=1):
        DATABASES[f"replica{number}"] = {
            **dj_database_url.parse(url, conn_max_age=env_int("CONN_MAX_AGE", 600), conn_health_checks=True),
            "OPTIONS": {"connect_timeout": 2},
            "TEST": {"MIRROR": "default"},  # tests that do not start servers read the primary's test database
        }
    DATABASE_ROUTERS = ["tracker.replicas.ReplicaRouter"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


# --- Cache ----------------------------------------------------------------------------------------
# Shared by every worker: a disk cache on one machine by default (never the SQLite database, whose write
# lock the read path must not take), Redis in production.
def cache_from_url(url: str) -> dict:
    parsed = urlparse(url)
    if parsed.scheme in {"redis", "rediss"}:
        return {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
    if parsed.scheme == "disk":
        # diskcache: SQLite-backed, safe across processes, tens of microseconds an operation (Django's file
        # cache rewrote a file and listed its folder on every write: a millisecond a throttled request).
        return {
            "BACKEND": "tracker.caches.PersistentDiskCache",
            "LOCATION": parsed.path,
            "OPTIONS": {"size_limit": 2**28},
        }
    if parsed.scheme == "file":
        return {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": parsed.path}
    if parsed.scheme == "locmem":
        return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": parsed.netloc}
    if parsed.scheme == "dummy":
        return {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}
    raise ImproperlyConfigured(
        f"CACHE_URL scheme {parsed.scheme!r} is not supported (redis, disk, file, locmem, dummy)."
    )


CACHES = {"default": cache_from_url(os.environ.get("CACHE_URL", f"disk://{BASE_DIR / '.cache' / 'shared'}"))}

# --- Auth -----------------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
EDITORS_GROUP = "editors"
# Admin logins are throttled by django-axes (API.md "HTTP behaviour"): 10 failures within 15 minutes, for a
# user name or from one client, lock further attempts (even with the right password) for 15 minutes. Its
# state is kept in the database, which every worker shares; failures are seen through its backend.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = 10
AXES_COOLOFF_TIME = datetime.timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # either one reaching the limit locks
AXES_RESET_ON_SUCCESS = True
AXES_HTTP_RESPONSE_CODE = 429
# A revert from the history screen would write around the services (rules, version, inlines).
SIMPLE_HISTORY_REVERT_DISABLED = True

# --- Internationalisation -------------------------------------------------------------------------
LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# django-countries lacks Kosovo; API.md accepts its user-assigned code XK.
COUNTRIES_OVERRIDE = {"XK": "Kosovo"}

# --- Static files ---------------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT") or BASE_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Compressed but not hashed: URLs do not depend on a manifest, so pages render before collectstatic.
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# --- REST framework -------------------------------------------------------------------------------
BROWSABLE_API = env_bool("BROWSABLE_API", True)

REST_FRAMEWORK = {
    # Token before session: a request without credentials then gets 401 (with WWW-Authenticate), not 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "incidents.api.throttling.CountedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["incidents.api.permissions.ReadAnyoneWriteEditors"],
    # Writes take JSON only: the one body every documented operation describes (and generated clients send).
    "DEFAULT_PARSER_CLASSES": ["incidents.api.parsers.StrictJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["incidents.api.renderers.OrjsonRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if BROWSABLE_API else []),
    "DEFAULT_PAGINATION_CLASS": "incidents.api.pagination.StrictLimitOffsetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "incidents.api.exceptions.api_exception_handler",
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "incidents.api.negotiation.StrictFormatNegotiation",
    # Coordinates are decimals in the database and JSON numbers on the wire.
    "COERCE_DECIMAL_TO_STRING": False,
    "DEFAULT_THROTTLE_CLASSES": [
        "incidents.api.throttling.AnonymousThrottle",
        "incidents.api.throttling.AuthenticatedThrottle",
    ],
    # How many proxies stand in front, so throttling counts clients, not the proxy. 0 (the default) counts
    # the connecting address: X-Forwarded-For is only trusted behind as many proxies as declared.
    "NUM_PROXIES": env_int("NUM_PROXIES", 0),
}
# The client address behind NUM_PROXIES proxies, for the admin's login throttle too (X-Forwarded-For only then).
AXES_IPWARE_PROXY_COUNT = REST_FRAMEWORK["NUM_PROXIES"]
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR") if REST_FRAMEWORK["NUM_PROXIES"] else ("REMOTE_ADDR",)
)

SPECTACULAR_SETTINGS = {
    "TITLE": "Arms-diversion incident tracker API",
    "DESCRIPTION": (
        "Reported arms-diversion incidents with their sources, verification state and coordinate provenance."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Country codes appear in several fields (country, suspected_origin): one named enum for all.
    "ENUM_NAME_OVERRIDES": {
        "CountryCodeEnum": "incidents.strict_query.COUNTRY_CHOICES",
        "CategoryEnum": "incidents.choices.WeaponCategory",  # the name clients were generated with
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "incidents.api.schema.document_error_responses",
    ],
}

# --- CORS -----------------------------------------------------------------------------------------
# Dashboards may read the JSON from any page; nothing else crosses origins. The URL pattern matches no
# path on purpose: `incidents.apps` enables CORS for safe methods under /api/ (django-cors-headers would
# otherwise add its headers to writes too).
CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS")
CORS_ALLOW_ALL_ORIGINS = not CORS_ALLOWED_ORIGINS
CORS_ALLOW_CREDENTIALS = False
CORS_URLS_REGEX = r"^(?!)"
CORS_ALLOW_METHODS = ("GET", "HEAD", "OPTIONS")
# A dashboard on another origin revalidates: it reads the ETag and sends it back in If-None-Match (a 304).
CORS_EXPOSE_HEADERS = ("ETag",)
CORS_ALLOW_HEADERS = (*default_cors_headers, "if-none-match")

# --- Limits and rates -----------------------------------------------------------------------------
ANON_THROTTLE_RATE = os.environ.get("ANON_THROTTLE_RATE", "120/minute")
USER_THROTTLE_RATE = os.environ.get("USER_THROTTLE_RATE", "1200/minute")
EXPORT_ANON_MAX_ROWS = env_int("EXPORT_ANON_MAX_ROWS", 10000)
# Dataset releases (API.md "Releases and feeds"): one directory per version, written once.
RELEASES_DIR = Path(os.environ.get("RELEASES_DIR") or BASE_DIR / "releases")
# The dashboard's map: offline outlines only unless a site names its tile service (`{z}/{x}/{y}` template)
# and the attribution its terms require.
MAP_TILE_URL = os.environ.get("MAP_TILE_URL", "")
MAP_TILE_ATTRIBUTION = os.environ.get("MAP_TILE_ATTRIBUTION", "")
# Request bodies: 1 MB, 10 MB for incidents/import/, answered 413 in JSON by one middleware; Django's own
# check (an HTML 400) is set no lower so that it never answers first.
MAX_BODY_BYTES = 1024 * 1024
MAX_IMPORT_BODY_BYTES = 10 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_IMPORT_BODY_BYTES

# --- Geocoding ------------------------------------------------------------------------------------
GEOCODER = os.environ.get("GEOCODER", "gazetteer")
GEOCODER_USER_AGENT = os.environ.get("GEOCODER_USER_AGENT", "")
GEOCODER_TIMEOUT = float(os.environ.get("GEOCODER_TIMEOUT", "5"))
# Nominatim's policy: at most one request per second, for the whole application.
GEOCODER_MIN_DELAY_SECONDS = float(os.environ.get("GEOCODER_MIN_DELAY_SECONDS", "1"))
# The offline gazetteer's index file (built once by `manage.py build_gazetteer`, or on first use).
GAZETTEER_PATH = os.environ.get("GAZETTEER_PATH", "")

# --- Deployment behind a proxy and over HTTPS (all off by default so a plain-HTTP local run works) ------
if os.environ.get("SECURE_PROXY_SSL_HEADER"):
    header, _, value = os.environ["SECURE_PROXY_SSL_HEADER"].partition(",")
    SECURE_PROXY_SSL_HEADER = (header.strip(), value.strip() or "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
# /healthz answers on plain HTTP for load balancers even when HTTPS is enforced.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
# With HSTS on, subdomains and preloading follow unless turned off (set them to 0 when a subdomain still
# serves plain HTTP); `check --deploy` warns without them.
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", SECURE_HSTS_SECONDS > 0)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", SECURE_HSTS_SECONDS > 0)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# --- Logging --------------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler", "level": os.environ.get("LOG_LEVEL", "WARNING")}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}
