"""CSRF protection: every state-changing dashboard POST carries its session's token."""

from __future__ import annotations

from urllib.parse import parse_qs

from starlette.requests import Request

from receiver.dashboard.session import Session, sign, token_matches
from receiver.errors import TaskhookError

FIELD = "csrf"
MAX_FORM_BYTES = 16 * 1024


class CsrfRejected(TaskhookError):
    """The form did not carry this session's CSRF token."""

    status_code = 403
    code = "csrf_failed"


class FormTooLarge(TaskhookError):
    status_code = 413
    code = "payload_too_large"


def csrf_token(session: Session) -> str:
    """The CSRF token of one session (derived, so nothing is stored)."""
    return sign(session.key, f"csrf.{session.nonce}")


async def read_form(request: Request) -> dict[str, str]:
    """An url-encoded form body as a flat dict (first value of each field)."""
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise FormTooLarge(f"form body over {MAX_FORM_BYTES} bytes")
    parsed = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    return {name: values[0] for name, values in parsed.items() if values}


def check_csrf(form: dict[str, str], session: Session) -> None:
    """Raise CsrfRejected unless the form's token is this session's."""
    given = form.get(FIELD, "")
    if not given or not token_matches(given, csrf_token(session)):
        raise CsrfRejected(
            "the form's security token is missing or stale: reload the page and try again"
        )
