"""Settings, read from the environment.

The embedded default is a SQLite file under ``instance/``; ``DATABASE_URL`` switches to
PostgreSQL (psycopg 3).  In development missing secrets are generated once, kept in
``instance/`` and a warning is printed; in production they must be given.
"""
from __future__ import annotations

import json
import logging
import os
import secrets
from datetime import timedelta
from pathlib import Path

from cryptography.fernet import Fernet

log = logging.getLogger(__name__)

SECRET_NAMES = {
    # setting name -> how to make a development value
    "SECRET_KEY": lambda: secrets.token_urlsafe(48),
    "JWT_SECRET_KEY": lambda: secrets.token_urlsafe(48),
    "PII_KEY": lambda: Fernet.generate_key().decode(),
    "PII_HASH_KEY": lambda: secrets.token_urlsafe(32),
}


def normalise_db_url(url: str) -> str:
    """postgres:// and postgresql:// both mean psycopg 3 here."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def load(instance_path: str, given: dict | None = None) -> dict:
    env = os.environ.get("APP_ENV", "development")
    production = env == "production"
    db_url = os.environ.get("DATABASE_URL") or f"sqlite:///{Path(instance_path) / 'app.db'}"
    config = {
        "APP_ENV": env,
        "SQLALCHEMY_DATABASE_URI": normalise_db_url(db_url),
        # no pool_pre_ping (a round trip on every checkout): a pooled PostgreSQL connection is checked by
        # the BEGIN its transaction sends anyway, at checkout, and replaced before use if a restart killed
        # it (backend/core/ops.py); connections older than DATABASE_POOL_RECYCLE_SECONDS are replaced
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_recycle": int(os.environ.get("DATABASE_POOL_RECYCLE_SECONDS", "1800"))},
        # REST API (flask-smorest); docs served from local files, no CDN
        "API_TITLE": "创业齐鲁 API",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api",
        "OPENAPI_JSON_PATH": "openapi.json",
        "OPENAPI_SWAGGER_UI_PATH": "docs",
        "OPENAPI_SWAGGER_UI_URL": "/api/docs/assets/",
        "API_SPEC_OPTIONS": {
            "components": {
                "securitySchemes": {
                    "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                    "deviceToken": {"type": "apiKey", "in": "header", "name": "X-Device-Token"},
                }
            },
        },
        # Auth
        "JWT_ACCESS_TOKEN_EXPIRES": timedelta(minutes=int(os.environ.get("JWT_ACCESS_MINUTES", "30"))),
        "JWT_REFRESH_TOKEN_EXPIRES": timedelta(days=int(os.environ.get("JWT_REFRESH_DAYS", "30"))),
        "JWT_TOKEN_LOCATION": ["headers"],
        # how long a process trusts what it read about a token's user (account active, role grants) and
        # whether the token is revoked: a role revoked, an account blocked or a logout made through
        # ANOTHER process or server takes effect here within this many seconds; made through this
        # process, at once (backend/accounts/identity.py). 0: read the database on every request.
        "IDENTITY_CACHE_SECONDS": float(os.environ.get("IDENTITY_CACHE_SECONDS", "5")),
        "SMS_CODE_TTL_SECONDS": 300,
        "SMS_CODE_MAX_ATTEMPTS": 5,
        "SMS_RESEND_SECONDS": 60,
        "SMS_SENDER": os.environ.get("SMS_SENDER", "backend.accounts.sms:LogSender"),
        "DEMO_LOGIN": _bool("DEMO_LOGIN", not production),
        # WeChat: mini-program code2session and official-account web OAuth
        "WECHAT_API_BASE": os.environ.get("WECHAT_API_BASE", "https://api.weixin.qq.com"),
        "WECHAT_MINI_APPID": os.environ.get("WECHAT_MINI_APPID", ""),
        "WECHAT_MINI_SECRET": os.environ.get("WECHAT_MINI_SECRET", ""),
        "WECHAT_OA_APPID": os.environ.get("WECHAT_OA_APPID", ""),
        "WECHAT_OA_SECRET": os.environ.get("WECHAT_OA_SECRET", ""),
        "WECHAT_TIMEOUT_SECONDS": float(os.environ.get("WECHAT_TIMEOUT_SECONDS", "5")),
        # subscription-message template for the day-before event reminder (empty: in-app only)
        "WECHAT_EVENT_REMINDER_TEMPLATE": os.environ.get("WECHAT_EVENT_REMINDER_TEMPLATE", ""),
        # … and for each step of a 创业担保贷款 case (thing1 step, phrase2 state, time3 when)
        "WECHAT_LOAN_STEP_TEMPLATE": os.environ.get("WECHAT_LOAN_STEP_TEMPLATE", ""),
        # 创业担保贷款: the notice period (working days) and each step's time limit (working days,
        # JSON {"review": 5, "diligence": 10, …}; the defaults are in backend/loans/flow.py STEP_DAYS)
        "LOAN_NOTICE_DAYS": int(os.environ.get("LOAN_NOTICE_DAYS", "5")),
        "LOAN_STEP_DAYS": json.loads(os.environ.get("LOAN_STEP_DAYS", "{}")),
        # Rate limits (Flask-Limiter); memory by default, redis://… in production
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_ENABLED": _bool("RATELIMIT_ENABLED", True),
        "RATELIMIT_HEADERS_ENABLED": True,
        # Redis down (the stated choice): rate limits fail OPEN to each process's own memory — every
        # route keeps its limits, counted per process instead of across servers — and the outage is
        # logged and counted (rate_limit_storage_fallbacks_total); payments and check-ins never stop
        # because Redis did. Flask-Limiter looks at Redis again after a back-off and goes back to it.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": _bool("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True),
        "RATELIMIT_SWALLOW_ERRORS": True,
        "REDIS_URL": os.environ.get("REDIS_URL", ""),
        # Operations (backend/core/ops.py): JSON log lines in production, text in development; one line
        # per request; /metrics answered to loopback and these addresses/networks (comma-separated)
        "LOG_FORMAT": os.environ.get("LOG_FORMAT", "json" if production else "text"),
        "LOG_REQUESTS": _bool("LOG_REQUESTS", True),
        "METRICS_ALLOW": [a.strip() for a in os.environ.get("METRICS_ALLOW", "").split(",") if a.strip()],
        # a database that does not answer within this many seconds counts as down (503, not a stuck worker)
        "DATABASE_CONNECT_TIMEOUT": int(os.environ.get("DATABASE_CONNECT_TIMEOUT", "5")),
        # Signed codes: server keys, personal-code window and clock-skew tolerance (seconds)
        # the signing keys live in the database (backend/core/keys.py); SIGNING_KEYS_DIR is only where
        # keys of an older checkout are imported from on first start (default instance/keys)
        "SIGNING_KEYS_DIR": os.environ.get("SIGNING_KEYS_DIR", ""),
        # how long a server trusts its in-process copy of the key table: a key rotated elsewhere signs
        # here, and a retired one stops verifying here, within this many seconds
        "SIGNING_KEYS_REFRESH_SECONDS": float(os.environ.get("SIGNING_KEYS_REFRESH_SECONDS", "30")),
        "PERSONAL_CODE_WINDOW": int(os.environ.get("PERSONAL_CODE_WINDOW", "30")),
        "PERSONAL_CODE_SKEW": int(os.environ.get("PERSONAL_CODE_SKEW", "20")),
        "CREDENTIAL_DAYS": int(os.environ.get("CREDENTIAL_DAYS", "7")),
        # the address printed in poster QR codes (…/c/<code>); empty: the address the request came to,
        # so a development server on any port prints codes that open on that port
        "PUBLIC_BASE_URL": os.environ.get("PUBLIC_BASE_URL", ""),
        "POSTER_FONT": os.environ.get("POSTER_FONT", ""),
        "STATIC_DIR": os.environ.get("STATIC_DIR", str(Path(__file__).resolve().parent.parent / "static")),
        # request bodies (backend/core/payload.py): JSON at most 4 MiB; file uploads (multipart) 16 MiB
        "MAX_CONTENT_LENGTH": 4 * 1024 * 1024,
        "UPLOAD_MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
        # uploads live in the database; UPLOAD_DIR is only where an older checkout's files are imported from
        "UPLOAD_DIR": os.environ.get("UPLOAD_DIR", ""),
        # drawn posters and event cover sizes kept in each process's memory (LRU, megabytes)
        "RENDER_CACHE_MB": int(os.environ.get("RENDER_CACHE_MB", "48")),
        # Vouchers: how long a provider may reverse a redemption; how long a scan stays good to
        # confirm a payment; how many days before expiry holders are reminded; provider notice days
        "VOUCHER_REVERSAL_HOURS": int(os.environ.get("VOUCHER_REVERSAL_HOURS", "72")),
        "VOUCHER_SCAN_MINUTES": int(os.environ.get("VOUCHER_SCAN_MINUTES", "10")),
        "VOUCHER_REMIND_DAYS": int(os.environ.get("VOUCHER_REMIND_DAYS", "7")),
        "PROVIDER_NOTICE_DAYS": int(os.environ.get("PROVIDER_NOTICE_DAYS", "7")),
        # the scheduler (flask scheduler run): seconds before each retry of a failed job run
        "SCHEDULER_RETRY_DELAYS": tuple(int(s) for s in os.environ.get("SCHEDULER_RETRY_DELAYS", "60,300").split(",") if s),
        # a run still marked running after this long on SQLite is taken as interrupted (PostgreSQL knows by its lock)
        "SCHEDULER_STALE_MINUTES": int(os.environ.get("SCHEDULER_STALE_MINUTES", "120")),
    }
    generated = []
    for name, make in SECRET_NAMES.items():
        value = (given or {}).get(name) or os.environ.get(name)
        if not value:
            if production:
                raise RuntimeError(f"{name} must be set when APP_ENV=production")
            value = _development_secret(instance_path, name, make, generated)
        config[name] = value
    # private signing keys are encrypted at rest with this Fernet key (comma-separated: the first
    # encrypts, all decrypt); development falls back to the PII key, production must name it
    kek = (given or {}).get("KEY_ENCRYPTION_KEY") or os.environ.get("KEY_ENCRYPTION_KEY")
    if not kek and production:
        raise RuntimeError("KEY_ENCRYPTION_KEY must be set when APP_ENV=production")
    config["KEY_ENCRYPTION_KEY"] = kek or config["PII_KEY"]
    if generated:
        log.warning("using generated development secrets from %s for %s: never use them in production "
                    "(set them in the environment, APP_ENV=production refuses to start without them)",
                    Path(instance_path) / "dev-secrets", ", ".join(generated))
    return config


def _development_secret(instance_path: str, name: str, make, generated: list) -> str:
    """A per-checkout development secret, made once and kept so tokens survive restarts."""
    path = Path(instance_path) / "dev-secrets" / name
    generated.append(name)
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = make()
    path.write_text(value)
    path.chmod(0o600)
    return value


def service_options(config: dict) -> None:
    """Options that follow from the final settings: a database or Redis that does not answer is given
    up on within seconds (a 503, then the next request tries again), never a worker stuck on it."""
    options = dict(config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    if config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        connect_args = dict(options.get("connect_args") or {})
        connect_args.setdefault("connect_timeout", config["DATABASE_CONNECT_TIMEOUT"])
        options["connect_args"] = connect_args
    config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    if str(config.get("RATELIMIT_STORAGE_URI", "")).startswith("redis") and not config.get("RATELIMIT_STORAGE_OPTIONS"):
        config["RATELIMIT_STORAGE_OPTIONS"] = {"socket_connect_timeout": 1, "socket_timeout": 1}
