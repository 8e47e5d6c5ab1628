"""Settings: one frozen object built from the environment and CLI flags (flags win)."""

from __future__ import annotations

import dataclasses
import os
import secrets
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from receiver.errors import ConfigError
from receiver.operator_settings import (
    DEFAULT_DELIVERY_CONCURRENCY,
    DEFAULT_RETENTION_DAYS,
    check_delivery,
    operator_values,
)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
DEFAULT_DB = "./taskhook.db"
# Reads (polls, confirming re-reads, refetches) are not what the providers' published limits
# govern (kie: 20 *new tasks* per 10 s); these bound a backlog burst, and a 429 still holds us.
DEFAULT_QUERY_RATE_LIMIT = "500/1"
DEFAULT_QUERY_CONCURRENCY = 64
DEFAULT_RETRY_SCHEDULE_S = (0.0, 5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0)
MIN_SECRET_KEY_LEN = 32
MIN_ADMIN_TOKEN_LEN = 16
DEFAULT_CALLBACK_REFUSAL_LIMIT = "60/60"
DEFAULT_AUTH_FAILURE_LIMIT = "10/60"
DEFAULT_AUDIT_MAX_MB = 256


@dataclass(frozen=True)
class ProviderDefaults:
    """Where a provider is and how fast it may be asked to create tasks, unless configured."""

    base_url: str
    rate_limit: str  # creating tasks, N/S (the provider's published limit)
    upload_url: str = ""  # a separate file-upload host, where the provider has one


# The providers taskhook knows, with their defaults: adding a provider is one line here
# (plus its receiving file in receiver/providers/ and its adapter in dispatcher/providers/).
PROVIDER_DEFAULTS = {
    # kie's File Upload API lives on its own host (docs.kie.ai file-upload-api pages)
    "kie": ProviderDefaults("https://api.kie.ai", "20/10", "https://kieai.redpandaai.co"),
    "foxapi": ProviderDefaults("https://api.foxapi.cc", "10/1"),
    "toapis": ProviderDefaults("https://toapis.com", "10/1"),
}
PROVIDERS = tuple(PROVIDER_DEFAULTS)


@dataclass(frozen=True)
class RateLimit:
    """At most `requests` provider requests per `per_s` seconds."""

    requests: int
    per_s: float

    @classmethod
    def parse(cls, text: str, name: str) -> RateLimit:
        """Parse `N/S`, e.g. `20/10`."""
        try:
            n, s = text.split("/", 1)
            limit = cls(int(n), float(s))
        except ValueError:
            raise ConfigError(f"{name}={text!r} is not N/S (e.g. 20/10)") from None
        if limit.requests < 1 or limit.per_s <= 0:
            raise ConfigError(f"{name}={text!r}: N must be >= 1 and S > 0")
        return limit


@dataclass(frozen=True)
class ProviderSettings:
    """Where and how to reach one provider."""

    name: str
    base_url: str
    api_key: str | None = field(default=None, repr=False)
    rate_limit: RateLimit = RateLimit(10, 1.0)  # creating tasks (global across processes)
    max_concurrency: int = 8  # creating tasks, per process
    query_rate_limit: RateLimit = RateLimit(500, 1.0)  # reads: polls, confirmations
    query_concurrency: int = DEFAULT_QUERY_CONCURRENCY  # reads in flight, per process
    confirm_callbacks: bool = True
    callback_models: frozenset[str] = frozenset()
    upload_url: str | None = None  # kie's File Upload API host (`TASKHOOK_KIE_UPLOAD_URL`)


@dataclass(frozen=True)
class Settings:
    """Everything taskhook is configured with; build it once and pass it down."""

    db: str = DEFAULT_DB
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    public_url: str | None = None
    admin_token: str | None = field(default=None, repr=False)
    metrics_token: str | None = field(default=None, repr=False)
    secret_key: str | None = field(default=None, repr=False)
    kie_webhook_key: str | None = field(default=None, repr=False)
    providers: Mapping[str, ProviderSettings] = field(default_factory=dict)
    workers: bool = True
    log_format: str = "text"
    server_stack: str = "fast"  # `fast`: uvloop + httptools; `plain`: asyncio + h11
    allow_http_subscribers: bool = False
    allow_private_subscribers: bool = False
    callback_tolerance_s: float = 300.0
    callback_retention_s: float = 7 * 86400.0
    max_body_bytes: int = 1024 * 1024
    poll_min_interval_s: float = 2.0
    poll_max_interval_s: float = 60.0
    poll_safety_interval_s: float = 300.0
    task_deadline_s: float = 3600.0
    poll_max_rejections: int = 3
    provider_timeout_s: float = 30.0  # bound on one provider request, start to end
    submit_wait_s: float = 5.0  # POST /api/tasks answers after this at most (send goes on)
    delivery_timeout_s: float = 15.0
    delivery_retry_schedule_s: tuple[float, ...] = DEFAULT_RETRY_SCHEDULE_S
    delivery_lease_s: float = 9.0  # renewed every third while a send is in flight
    subscriber_disable_after_s: float = 5 * 86400.0
    secret_rotation_grace_s: float = 86400.0
    standard_webhook_sources: Mapping[str, str] = field(default_factory=dict, repr=False)
    retention_days: float = DEFAULT_RETENTION_DAYS  # finished tasks and their rows; 0 = keep
    delivery_concurrency: int = DEFAULT_DELIVERY_CONCURRENCY
    # Media archive (issue 14). `off` here; `TASKHOOK_MEDIA` defaults to `file` (from_env).
    media: str = "off"  # off | file | s3://bucket/prefix
    media_dir: str | None = None  # file store folder; None = `media/` beside the database
    media_max_mb: int = 500
    media_wait_s: float = 120.0  # task.succeeded waits this long at most for its files
    media_url_ttl_s: float = 7 * 86400.0
    media_retention_days: float = 30.0
    media_retry_base_s: float = 5.0  # first retry delay; doubles up to media_retry_max_s
    media_retry_max_s: float = 600.0
    media_source_ttl_s: float = 86400.0  # how long a provider keeps its copy
    media_download_timeout_s: float = 900.0
    s3_endpoint_url: str | None = None
    # hardening: per-address throttles, the audit table's cap, request bounds
    callback_refusal_limit: RateLimit = RateLimit(60, 60.0)  # refused callbacks per address
    auth_failure_limit: RateLimit = RateLimit(10, 60.0)  # wrong admin tokens per address
    callback_audit_max_bytes: int = DEFAULT_AUDIT_MAX_MB * 1024 * 1024
    body_read_timeout_s: float = 30.0  # a request body must arrive within this
    max_connections: int = 1000  # concurrent connections + tasks; beyond: 503

    @property
    def is_postgres(self) -> bool:
        """True when the store is PostgreSQL rather than an embedded SQLite file."""
        return self.db.startswith(("postgresql://", "postgres://"))

    def provider(self, name: str) -> ProviderSettings:
        """Settings of one provider (defaults when never configured)."""
        found = self.providers.get(name)
        if found is not None:
            return found
        return ProviderSettings(name=name, base_url=_defaults(name).base_url)

    def callback_url(self, provider: str, token: str) -> str | None:
        """The per-task callback URL, or None when there is no public URL."""
        if not self.public_url:
            return None
        return f"{self.public_url}/callbacks/{provider}/{token}"

    def replace(self, **changes: Any) -> Settings:
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from environment variables; keyword overrides (CLI flags) win."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {
            "db": env.get("TASKHOOK_DB") or DEFAULT_DB,
            "host": env.get("TASKHOOK_HOST") or DEFAULT_HOST,
            "port": _int(env, ("TASKHOOK_PORT", "PORT"), DEFAULT_PORT),
            "public_url": _public_url(env.get("TASKHOOK_PUBLIC_URL")),
            "admin_token": env.get("TASKHOOK_ADMIN_TOKEN") or None,
            "metrics_token": env.get("TASKHOOK_METRICS_TOKEN") or None,
            "secret_key": env.get("TASKHOOK_SECRET_KEY") or None,
            "kie_webhook_key": env.get("TASKHOOK_KIE_WEBHOOK_KEY") or None,
            "providers": {p: _provider_from_env(env, p) for p in PROVIDERS},
            "workers": env.get("TASKHOOK_WORKERS", "1").strip() not in ("0", "false", "no"),
            "log_format": env.get("TASKHOOK_LOG_FORMAT") or "text",
            "server_stack": env.get("TASKHOOK_SERVER_STACK") or "fast",
            "allow_http_subscribers": _flag(env, "TASKHOOK_ALLOW_HTTP_SUBSCRIBERS"),
            "allow_private_subscribers": _flag(env, "TASKHOOK_ALLOW_PRIVATE_SUBSCRIBERS"),
            "standard_webhook_sources": _sw_sources(env),
            "task_deadline_s": _float(env, "TASKHOOK_TASK_DEADLINE_S", 3600.0),
            "provider_timeout_s": _float(env, "TASKHOOK_PROVIDER_TIMEOUT_S", 30.0),
            "submit_wait_s": _float(env, "TASKHOOK_SUBMIT_WAIT_S", 5.0),
            **operator_values(env),
            **_media_from_env(env),
            **_hardening_from_env(env),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        settings = cls(**values)
        settings.validate()
        return settings

    def validate(self) -> None:
        """Refuse settings that cannot work, saying what to change."""
        if not 0 < self.port < 65536:
            raise ConfigError(f"port {self.port} is out of range: use 1-65535")
        if self.server_stack not in ("fast", "plain"):
            raise ConfigError(
                f"TASKHOOK_SERVER_STACK={self.server_stack!r}: use 'fast' (uvloop + httptools) "
                "or 'plain' (asyncio + h11)"
            )
        if self.log_format not in ("text", "json"):
            raise ConfigError(f"TASKHOOK_LOG_FORMAT={self.log_format!r}: use 'text' or 'json'")
        if self.media_max_mb < 1:
            raise ConfigError(f"TASKHOOK_MEDIA_MAX_MB={self.media_max_mb}: use at least 1")
        if self.secret_key is not None and len(self.secret_key) < MIN_SECRET_KEY_LEN:
            raise ConfigError(
                f"TASKHOOK_SECRET_KEY is {len(self.secret_key)} characters: "
                f"use at least {MIN_SECRET_KEY_LEN} (e.g. `openssl rand -hex 32`)"
            )
        check_delivery(self.delivery_timeout_s, self.delivery_retry_schedule_s)
        if self.admin_token is not None and len(self.admin_token) < MIN_ADMIN_TOKEN_LEN:
            raise ConfigError(
                f"TASKHOOK_ADMIN_TOKEN is {len(self.admin_token)} characters: "
                f"use at least {MIN_ADMIN_TOKEN_LEN} (e.g. `openssl rand -hex 24`)"
            )


def _int(env: Mapping[str, str], names: tuple[str, ...], default: int) -> int:
    for name in names:
        raw = env.get(name)
        if raw:
            try:
                return int(raw)
            except ValueError:
                raise ConfigError(f"{name}={raw!r} is not a whole number") from None
    return default


def _positive(env: Mapping[str, str], name: str, default: int) -> int:
    value = _int(env, (name,), default)
    if value < 1:
        raise ConfigError(f"{name}={value}: use a whole number of at least 1")
    return value


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number of seconds") from None
    if value <= 0:
        raise ConfigError(f"{name}={raw!r} must be greater than 0")
    return value


def _hardening_from_env(env: Mapping[str, str]) -> dict[str, Any]:
    """Throttles, the audit cap and request bounds (see the README's security section)."""
    refusals = env.get("TASKHOOK_CALLBACK_REFUSAL_LIMIT") or DEFAULT_CALLBACK_REFUSAL_LIMIT
    failures = env.get("TASKHOOK_AUTH_FAILURE_LIMIT") or DEFAULT_AUTH_FAILURE_LIMIT
    audit_mb = _int(env, ("TASKHOOK_CALLBACK_AUDIT_MAX_MB",), DEFAULT_AUDIT_MAX_MB)
    connections = _int(env, ("TASKHOOK_MAX_CONNECTIONS",), 1000)
    if audit_mb < 1 or connections < 1:
        raise ConfigError(
            "TASKHOOK_CALLBACK_AUDIT_MAX_MB and TASKHOOK_MAX_CONNECTIONS must be at least 1"
        )
    return {
        "callback_refusal_limit": RateLimit.parse(refusals, "TASKHOOK_CALLBACK_REFUSAL_LIMIT"),
        "auth_failure_limit": RateLimit.parse(failures, "TASKHOOK_AUTH_FAILURE_LIMIT"),
        "callback_audit_max_bytes": audit_mb * 1024 * 1024,
        "body_read_timeout_s": _float(env, "TASKHOOK_BODY_READ_TIMEOUT_S", 30.0),
        "max_connections": connections,
    }


def _flag(env: Mapping[str, str], name: str) -> bool:
    return env.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def _public_url(raw: str | None) -> str | None:
    if not raw:
        return None
    if not raw.startswith(("http://", "https://")):
        raise ConfigError(f"TASKHOOK_PUBLIC_URL={raw!r} must start with https:// (or http://)")
    return raw.rstrip("/")


def _provider_from_env(env: Mapping[str, str], name: str) -> ProviderSettings:
    up = name.upper()
    base = (env.get(f"TASKHOOK_{up}_BASE_URL") or PROVIDER_DEFAULTS[name].base_url).rstrip("/")
    rate = env.get(f"TASKHOOK_{up}_RATE_LIMIT") or PROVIDER_DEFAULTS[name].rate_limit
    query = env.get(f"TASKHOOK_{up}_QUERY_RATE_LIMIT") or DEFAULT_QUERY_RATE_LIMIT
    models = env.get(f"TASKHOOK_{up}_CALLBACK_MODELS", "")
    return ProviderSettings(
        name=name,
        base_url=base,
        api_key=env.get(f"TASKHOOK_{up}_API_KEY") or None,
        rate_limit=RateLimit.parse(rate, f"TASKHOOK_{up}_RATE_LIMIT"),
        max_concurrency=_positive(env, f"TASKHOOK_{up}_CONCURRENCY", 8),
        query_rate_limit=RateLimit.parse(query, f"TASKHOOK_{up}_QUERY_RATE_LIMIT"),
        query_concurrency=_positive(
            env, f"TASKHOOK_{up}_QUERY_CONCURRENCY", DEFAULT_QUERY_CONCURRENCY
        ),
        confirm_callbacks=env.get(f"TASKHOOK_{up}_CONFIRM_CALLBACKS", "1") != "0",
        callback_models=frozenset(m.strip() for m in models.split(",") if m.strip()),
        upload_url=(
            env.get(f"TASKHOOK_{up}_UPLOAD_URL") or PROVIDER_DEFAULTS[name].upload_url
        ).rstrip("/")
        or None,
    )


def _media_from_env(env: Mapping[str, str]) -> dict[str, Any]:
    """The media archive settings (`TASKHOOK_MEDIA*`, `TASKHOOK_S3_ENDPOINT_URL`)."""
    media = (env.get("TASKHOOK_MEDIA") or "file").strip()
    if media not in ("off", "file") and not media.startswith("s3://"):
        raise ConfigError(f"TASKHOOK_MEDIA={media!r}: use file, off or s3://bucket/prefix")
    return {
        "media": media,
        "media_dir": env.get("TASKHOOK_MEDIA_DIR") or None,
        "media_max_mb": _int(env, ("TASKHOOK_MEDIA_MAX_MB",), 500),
        "media_wait_s": _float(env, "TASKHOOK_MEDIA_WAIT_S", 120.0),
        "media_url_ttl_s": _float(env, "TASKHOOK_MEDIA_URL_TTL_S", 7 * 86400.0),
        "media_retention_days": _float(env, "TASKHOOK_MEDIA_RETENTION_DAYS", 30.0),
        "s3_endpoint_url": env.get("TASKHOOK_S3_ENDPOINT_URL") or None,
    }


def _sw_sources(env: Mapping[str, str]) -> dict[str, str]:
    """`TASKHOOK_SW_<SOURCE>_SECRET` = `whsec_...` or `whpk_...` per Standard Webhooks source."""
    out: dict[str, str] = {}
    for key, value in env.items():
        if key.startswith("TASKHOOK_SW_") and key.endswith("_SECRET") and value:
            out[key[len("TASKHOOK_SW_") : -len("_SECRET")].lower()] = value
    return out


def ensure_local_secrets(settings: Settings) -> tuple[Settings, list[str]]:
    """Fill an unset admin token / secret key from 0600 files beside a SQLite database.

    Returns the completed settings and one message per file created, to be said once.
    """
    if settings.is_postgres:
        if settings.secret_key is None:
            raise ConfigError(
                "TASKHOOK_SECRET_KEY must be set with PostgreSQL (all instances need the "
                "same key): export TASKHOOK_SECRET_KEY=$(openssl rand -hex 32)"
            )
        if settings.admin_token is None:
            raise ConfigError("TASKHOOK_ADMIN_TOKEN must be set with PostgreSQL")
        return settings, []
    folder = Path(settings.db).expanduser().resolve().parent
    notes: list[str] = []
    token = settings.admin_token or _load_or_create(folder / "taskhook.admin_token", notes)
    key = settings.secret_key or _load_or_create(folder / "taskhook.secret_key", notes)
    completed = settings.replace(admin_token=token, secret_key=key)
    completed.validate()  # a hand-edited token file is held to the same rules
    return completed, notes


def _load_or_create(path: Path, notes: list[str]) -> str:
    if path.exists():
        return path.read_text().strip()
    value = secrets.token_urlsafe(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, stat.S_IRUSR | stat.S_IWUSR)
    except FileExistsError:
        return path.read_text().strip()
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror}; choose a writable --db") from exc
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    notes.append(f"generated {path.name} (0600) at {path}")
    return value


def _defaults(name: str) -> ProviderDefaults:
    """A known provider's defaults; an unknown name has none (an empty base URL)."""
    return PROVIDER_DEFAULTS.get(name, ProviderDefaults("", "10/1"))
