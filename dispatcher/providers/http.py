"""One provider request: send, then translate transport errors and error codes.

    HTTP status or kie in-body `code`     raises
    400 401 402 403 404 422 433 451       ProviderRejected (the provider's message)
    501 505, any other code below 500
    408 429 455, other 5xx, network       ProviderUnavailable (retry_after_s from Retry-After)
    2xx with a non-JSON / non-object body ProviderUnavailable (transient)

No retries and no metrics here: the caller owns both.
"""

from __future__ import annotations

import logging
from typing import Any, NamedTuple

import httpx

from dispatcher.providers.base import ProviderRejected, ProviderUnavailable
from receiver.retry import parse_retry_after
from receiver.settings import ProviderSettings

logger = logging.getLogger(__name__)

OK_CODE = 200
REJECTED_CODES = frozenset({400, 401, 402, 403, 404, 422, 433, 451, 501, 505})
UNAVAILABLE_CODES = frozenset({408, 429, 455})
MAX_MESSAGE_CHARS = 300
HINTS = {
    401: "check TASKHOOK_{P}_API_KEY",
    402: "top up the account's credits",
    433: "the sub-key's limit is reached: raise it in the provider's console",
    451: "the provider could not fetch an input file: make the URL public",
}


def api_key(settings: ProviderSettings) -> str:
    """The provider's API key, or ProviderRejected saying which variable to set."""
    env = f"TASKHOOK_{settings.name.upper()}_API_KEY"
    key = settings.api_key
    if not key:
        raise ProviderRejected(
            settings.name, f"no API key configured: set {env}", code="missing_api_key"
        )
    if not key.isprintable() or any(c.isspace() for c in key):
        raise ProviderRejected(
            settings.name,
            f"{env} contains spaces or control characters: set it to the key alone",
            code="invalid_api_key",
        )
    return key


class Body(NamedTuple):
    """What one request sends besides its headers."""

    json: dict[str, Any] | None = None
    params: dict[str, str] | None = None
    files: dict[str, tuple[str, bytes, str]] | None = None
    data: dict[str, str] | None = None


async def request_json(
    client: httpx.AsyncClient,
    settings: ProviderSettings,
    method: str,
    path: str,
    *,
    json: dict[str, Any] | None = None,
    params: dict[str, str] | None = None,
    envelope: bool = False,
    files: dict[str, tuple[str, bytes, str]] | None = None,
    data: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Send one request; return the JSON object answered, or raise a ProviderError.

    `envelope`: the body carries its own status as `code` (kie), checked even on HTTP 200.
    `files` and `data` send a multipart form instead of `json` (kie's file upload).
    """
    key = api_key(settings)
    url = f"{settings.base_url.rstrip('/')}{path}"
    sent = Body(json, params, files, data)
    response = await _send(client, settings.name, method, url, key, sent)
    logger.debug("%s %s %s -> %s", settings.name, method, path, response.status_code)
    body = _json_body(response)
    if not response.is_success:
        raise _error(settings.name, response.status_code, None, body, response)
    if body is None:
        raise ProviderUnavailable(
            settings.name,
            f"answered HTTP {response.status_code} with a body that is not a JSON object "
            f"({_snippet(response.text)!r}); will try again",
            code="malformed_response",
            http_status=response.status_code,
        )
    code = _code(body) if envelope else None
    if code is not None and code != OK_CODE:
        raise _error(settings.name, response.status_code, code, body, response)
    return body


async def _send(
    client: httpx.AsyncClient,
    provider: str,
    method: str,
    url: str,
    key: str,
    body: Body,
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}", "Accept": "application/json"}
    try:
        return await client.request(
            method, url, headers=headers, json=body.json, params=body.params,
            files=body.files, data=body.data,
        )  # fmt: skip
    except httpx.TimeoutException as exc:
        message = f"timed out ({type(exc).__name__}) on {method} {_no_query(url)}"
        raise ProviderUnavailable(provider, message, code="timeout") from exc
    except httpx.TransportError as exc:
        # Some transport errors quote the headers sent: never let the key through.
        said = f"{type(exc).__name__}: {exc}".replace(key, "***")
        message = f"cannot reach {_no_query(url)}: {said}"
        raise ProviderUnavailable(provider, message, code="network") from exc


def _no_query(url: str) -> str:
    return url.split("?", 1)[0]


def _json_body(response: httpx.Response) -> dict[str, Any] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _code(body: dict[str, Any]) -> int | None:
    """kie's in-body `code` as an int (None when absent or not a number)."""
    raw = body.get("code")
    if isinstance(raw, bool):
        return None
    try:
        return int(raw) if isinstance(raw, int | str) else None
    except ValueError:
        return None


def _error(
    provider: str,
    status: int,
    code: int | None,
    body: dict[str, Any] | None,
    response: httpx.Response,
) -> ProviderRejected | ProviderUnavailable:
    effective = code if code is not None else status
    where = f"HTTP {status}" + (f", code {code}" if code is not None else "")
    message = f"{_message(body, response)} ({where})"
    hint = HINTS.get(effective)
    if hint:
        message += f"; {hint.replace('{P}', provider.upper())}"
    if _is_transient(effective):
        return ProviderUnavailable(
            provider,
            message,
            code=code,
            http_status=status,
            retry_after_s=parse_retry_after(response.headers.get("Retry-After")),
        )
    return ProviderRejected(provider, message, code=code, http_status=status)


def _is_transient(code: int) -> bool:
    if code in REJECTED_CODES:
        return False
    return code in UNAVAILABLE_CODES or code >= 500


def _message(body: dict[str, Any] | None, response: httpx.Response) -> str:
    """The provider's own words: `msg`, `message`, `error.message` or `error`."""
    found: Any = None
    if body is not None:
        error = body.get("error")
        nested = error.get("message") if isinstance(error, dict) else error
        found = body.get("msg") or body.get("message") or nested
    if not isinstance(found, str) or not found.strip():
        found = _snippet(response.text) or response.reason_phrase or "no message"
    return _snippet(found)


def _snippet(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_MESSAGE_CHARS else text[: MAX_MESSAGE_CHARS - 3] + "..."
