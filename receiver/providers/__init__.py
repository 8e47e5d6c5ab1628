"""Providers' task records normalised into `ProviderState` (pure functions, no I/O).

They live in the receiver so callbacks can be parsed without importing the dispatcher.
"""

from __future__ import annotations

from receiver.providers.foxapi import parse_foxapi_task
from receiver.providers.kie import kie_callback_task_id, parse_kie_callback, parse_kie_record
from receiver.providers.toapis import parse_toapis_task

__all__ = [
    "kie_callback_task_id",
    "parse_foxapi_task",
    "parse_kie_callback",
    "parse_kie_record",
    "parse_toapis_task",
]
