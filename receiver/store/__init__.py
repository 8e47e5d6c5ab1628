"""The store: one module per table family, all written against `receiver.db.Executor`."""

from __future__ import annotations

from receiver.store.completion import Outcome, record_completion
from receiver.store.pagination import Page

__all__ = ["Outcome", "Page", "record_completion"]
