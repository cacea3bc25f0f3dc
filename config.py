"""Configuration from the environment.

The embedded default (no ``DATABASE_URL``/``REDIS_URL``) runs on SQLite with an in-process
worker; setting both switches to PostgreSQL, Celery workers and the Redis message queue.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("INSTANCE_PATH", BASE_DIR / "instance"))


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.strip().lower() in {"1", "true", "yes", "on"}


def _secret_key() -> str:
    """SECRET_KEY from the environment, else one generated once and kept in the instance folder
    so that sessions survive restarts of ``make run``."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    key_file = INSTANCE_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(48))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


class Config:
    SECRET_KEY = _secret_key()
    PORT = int(os.environ.get("PORT", "5000"))
    PUBLIC_URL = os.environ.get("PUBLIC_URL", f"http://127.0.0.1:{PORT}").rstrip("/")
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL") or f"sqlite:///{INSTANCE_DIR / 'emotiscan.db'}"
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    # werkzeug's scrypt (N=32768, r=8, p=1): about 0.1 s and 32 MiB per check, which makes guessing dear.
    PASSWORD_HASH_METHOD = "scrypt"
    REDIS_URL = os.environ.get("REDIS_URL") or None
    # "celery" needs REDIS_URL; "thread" analyses frames in a pool inside the web process.
    TASK_MODE = os.environ.get("TASK_MODE") or ("celery" if REDIS_URL else "thread")
    EMBEDDED_WORKER_THREADS = int(os.environ.get("EMBEDDED_WORKER_THREADS", "2"))
    # A worker takes the frames waiting, up to FRAME_BATCH_MAX, waiting at most FRAME_BATCH_WAIT_S
    # for more after the first: one classification, one transaction per batch (docs/architecture.md).
    FRAME_BATCH_MAX = int(os.environ.get("FRAME_BATCH_MAX", "4"))
    FRAME_BATCH_WAIT_S = float(os.environ.get("FRAME_BATCH_WAIT_S", "0.005"))

    MAX_CONTENT_LENGTH = 1 * 1024 * 1024  # JSON and form bodies
    WTF_CSRF_TIME_LIMIT = None
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = PUBLIC_URL.startswith("https://")
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    PREFERRED_URL_SCHEME = "https" if SESSION_COOKIE_SECURE else "http"

    LANGUAGES = ("fr", "en")
    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "UTC"

    API_TOKEN_TTL_DAYS = int(os.environ.get("API_TOKEN_TTL_DAYS", "30"))
    PASSWORD_RESET_TTL_S = 3600
    PAGE_SIZE = 50
    PAGE_SIZE_MAX = 200

    RATELIMIT_ENABLED = _env_bool("RATELIMIT_ENABLED", True)
    RATELIMIT_STORAGE_URI = REDIS_URL or "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    FAILED_LOGIN_LIMIT = "10 per minute"
    SIGNUP_LIMIT = "10 per minute"
    API_LIMIT = os.environ.get("API_LIMIT", "600 per minute")  # per API token (or address), every /api/v1 call
    LOCKOUT_AFTER = int(os.environ.get("LOCKOUT_AFTER", 10))  # consecutive failed sign-ins, then exponential locks
    LOCKOUT_MINUTES = int(os.environ.get("LOCKOUT_MINUTES", 30))

    MAIL_SERVER = os.environ.get("MAIL_SERVER") or None
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "25"))
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME") or None
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD") or None
    MAIL_USE_TLS = _env_bool("MAIL_USE_TLS", False)
    MAIL_FROM = os.environ.get("MAIL_FROM", "EmotiScan <no-reply@emotiscan.local>")

    # Real-time pipeline
    MAX_FRAME_BYTES = int(os.environ.get("MAX_FRAME_BYTES", str(2 * 1024 * 1024)))
    MAX_FRAME_PIXELS = int(os.environ.get("MAX_FRAME_PIXELS", str(4096 * 4096)))
    STALE_FRAME_S = float(os.environ.get("STALE_FRAME_S", "2.0"))
    MAX_FRAMES_IN_FLIGHT = 2
    # Fair share of shared workers: at most this many frames of one tenant queued or in analysis,
    # so that a tenant flooding frames delays another tenant's by a bounded number of frames.
    # Until the workers have published their throughput; then the caps follow it (app/services/
    # admission.py): frames in flight in all max(workers x FRAME_BATCH_MAX x 2, frames/s x
    # ADMISSION_WINDOW_S), each active tenant an equal share.
    TENANT_MAX_IN_FLIGHT = int(os.environ.get("TENANT_MAX_IN_FLIGHT", 24))
    ADMISSION_WINDOW_S = float(os.environ.get("ADMISSION_WINDOW_S", "0.15"))
    CAMERA_OFFLINE_S = 10  # the live page greys a tile after this
    CAMERA_OFFLINE_ALERT_S = int(os.environ.get("CAMERA_OFFLINE_ALERT_S", "120"))  # ...and alerts after this
    SMOOTHING_ALPHA = float(os.environ.get("SMOOTHING_ALPHA", "0.4"))
    TRACK_TTL_S = float(os.environ.get("TRACK_TTL_S", "3.0"))  # an anonymous face track ends unseen this long
    MODEL_DIR = os.environ.get("MODEL_DIR", str(BASE_DIR / "app" / "inference" / "weights"))
    MIN_FACE_PX = int(os.environ.get("MIN_FACE_PX", "40"))
    MIN_FACE_SHARPNESS = float(os.environ.get("MIN_FACE_SHARPNESS", "12.0"))
    MIN_FACE_BRIGHTNESS = float(os.environ.get("MIN_FACE_BRIGHTNESS", "35.0"))

    # Origins allowed to open Socket.IO connections (comma-separated); default: PUBLIC_URL only.
    SOCKETIO_CORS_ALLOWED_ORIGINS: list[str] | str | None = [
        o.strip() for o in os.environ.get("SOCKETIO_CORS_ALLOWED_ORIGINS", "").split(",") if o.strip()
    ] or None
    # Open Socket.IO connections (app.realtime.guard). Each WebSocket holds a gunicorn thread: keep
    # SOCKET_MAX_CONNECTIONS below the threads (make run: THREADS=1200) so that HTTP always has some.
    SOCKET_MAX_CONNECTIONS = int(os.environ.get("SOCKET_MAX_CONNECTIONS", "1100"))
    SOCKET_MAX_PER_ADDRESS = int(os.environ.get("SOCKET_MAX_PER_ADDRESS", "1000"))
    SOCKET_MAX_PENDING_PER_ADDRESS = int(os.environ.get("SOCKET_MAX_PENDING_PER_ADDRESS", "32"))
    SOCKET_AUTH_TIMEOUT_S = float(os.environ.get("SOCKET_AUTH_TIMEOUT_S", "5"))
    RETENTION_PERIOD_S = int(os.environ.get("RETENTION_PERIOD_S", 3600))  # how often old data is deleted
    # Behind NGINX (or another proxy that sets X-Forwarded-For/-Proto/-Host): trust one hop, so that
    # HTTPS, client addresses (rate limits) and absolute URLs are the browser's, not the proxy's.
    BEHIND_PROXY = os.environ.get("BEHIND_PROXY", "") in ("1", "true", "yes")
    # Networks that webhooks (and other outbound requests to tenants' URLs) may reach although private,
    # comma-separated CIDR, e.g. "10.20.0.0/16" for on-premises receivers; default: public addresses only.
    OUTBOUND_ALLOW_NETWORKS = [n.strip() for n in os.environ.get("OUTBOUND_ALLOW_NETWORKS", "").split(",") if n.strip()]
    # Networks whose stream cameras the server may pull itself (the gateway), comma-separated CIDR,
    # e.g. "10.20.0.0/16" for an on-premises install; default empty: no server-side pulling, cameras
    # elsewhere are fed by the edge agent (emotiscan-agent) with a capture token.
    STREAM_SOURCES_ALLOW = [n.strip() for n in os.environ.get("STREAM_SOURCES_ALLOW", "").split(",") if n.strip()]
    # The embedded mode pulls stream cameras in its web process; 0 when `make gateway` runs beside it.
    EMBEDDED_GATEWAY = os.environ.get("EMBEDDED_GATEWAY", "1") != "0"
    # Fernet keys for secrets stored encrypted (webhook signing secrets), comma-separated: the first
    # encrypts, all decrypt (rotation: put a new key first). Unset: a key derived from SECRET_KEY.
    DATA_KEYS = [k.strip() for k in os.environ.get("DATA_KEYS", "").split(",") if k.strip()]
    LOG_FORMAT = os.environ.get("LOG_FORMAT", "json")  # json (one object per line, with request_id) | text
    LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")


class TestingConfig(Config):
    TESTING = True
    WTF_CSRF_ENABLED = False
    RATELIMIT_ENABLED = False
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    REDIS_URL = None
    TASK_MODE = "eager"  # analyse in the calling thread: one test covers socket -> task -> emit
    RATELIMIT_STORAGE_URI = "memory://"
    SECRET_KEY = "testing"
    # The in-process tests check what is done with passwords, not what a guess costs: a cheap hash
    # spares the suite minutes of scrypt. Every process test (make run, workers) keeps scrypt.
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"
