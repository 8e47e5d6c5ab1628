"""The worker that keeps the callback audit table under its size cap.

It checks every `check_every_s`, and sooner when the callback routes report that refused
callbacks have written a tenth of the cap since the last check. Rows dropped are counted
in `/metrics` (`taskhook_callback_audit_dropped_total`).
"""

from __future__ import annotations

import logging

from receiver.clock import now_ms
from receiver.runtime import Runtime
from receiver.store.audit_cap import enforce_audit_cap

log = logging.getLogger(__name__)

DEFAULT_CHECK_EVERY_S = 60.0


class AuditCapWorker:
    """Drops the oldest audit rows beyond `settings.callback_audit_max_bytes`."""

    name = "callback-audit-cap"

    def __init__(self, runtime: Runtime, *, check_every_s: float = DEFAULT_CHECK_EVERY_S):
        self._runtime = runtime
        self._check_every_ms = int(check_every_s * 1000)
        self._next_check_ms = 0
        self._written = 0

    def note_written(self, size: int) -> None:
        """Count bytes a refused callback stored; ask for a check when they add up."""
        self._written += size
        if self._written >= self._runtime.settings.callback_audit_max_bytes // 10:
            self._next_check_ms = 0
            self._runtime.runner.wake(self.name)

    async def run_once(self) -> int:
        """Enforce the cap when a check is due; how many rows went."""
        now = now_ms()
        if now < self._next_check_ms:
            return 0
        self._next_check_ms = now + self._check_every_ms
        self._written = 0
        cap = self._runtime.settings.callback_audit_max_bytes
        dropped = await enforce_audit_cap(self._runtime.db, max_bytes=cap)
        if dropped:
            self._runtime.metrics.audit_dropped.inc(dropped)
            log.warning("callback audit over %d bytes: dropped the %d oldest rows", cap, dropped)
        return dropped
