"""`Source`: one name under `/callbacks/`, and what it knows about its callbacks.

A source knows where its body names the task, how to read the body as a ProviderState,
and how (if at all) to authenticate a request without a per-task token. A provider's
source is defined in that provider's receiver-side file beside this one;
Standard Webhooks sources in `receiver/callbacks/sources.py`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from receiver.errors import VerificationFailed
from receiver.provider_state import ProviderState

# (headers, raw body, provider task id named in the body) -> None, or VerificationFailed
Verify = Callable[[Mapping[str, str], bytes, str], None]

MAX_TASK_ID_CHARS = 200
_PRINTABLE_ID = re.compile(r"[\x21-\x7e]+")


@dataclass(frozen=True)
class Source:
    """One name under `/callbacks/`."""

    name: str
    task_id_field: str
    find_task_id: Callable[[Mapping[str, Any]], str | None]
    parse: Callable[[Mapping[str, Any]], ProviderState]
    verify: Verify | None = None
    signs_body: bool = False
    signature_on_token_route: bool = False
    unverifiable_reason: str = ""

    def task_id(self, body: Mapping[str, Any]) -> str | None:
        """The provider's task id named in `body`, if it is a sane id."""
        found = self.find_task_id(body)
        if found is None or len(found) > MAX_TASK_ID_CHARS or not _PRINTABLE_ID.fullmatch(found):
            return None
        return found

    def authenticate(self, headers: Mapping[str, str], raw: bytes, task_id: str) -> None:
        """Check the signature; VerificationFailed when absent, wrong, or impossible."""
        if self.verify is None:
            raise VerificationFailed(self.unverifiable_reason)
        self.verify(headers, raw, task_id)
