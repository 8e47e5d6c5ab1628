"""What a provider reports a task cost, normalised (pure functions, no I/O).

`cost` = `{"units": {name: number, ...}, "duration_s": seconds | None}`: `units` are the
provider's own numbers under the provider's own names (foxapi `usage`, kie credit fields),
never converted; `duration_s` is the provider's processing time (kie `costTime`, else
its complete - create times; toapis `completed_at - created_at`). None when the provider
reported nothing.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

from receiver.provider_state import ProviderState

MAX_UNITS = 16
MAX_NAME_CHARS = 64


def number(value: Any) -> float | None:
    """A finite, non-negative number from a number or numeric string, else None."""
    if isinstance(value, bool):
        return None
    try:
        found = float(value)
    except (TypeError, ValueError):
        return None
    return found if math.isfinite(found) and found >= 0 else None


def numeric_units(found: Mapping[str, Any], *, only_credit_keys: bool = False) -> dict[str, float]:
    """The numeric fields of `found` (optionally only those naming credits)."""
    units: dict[str, float] = {}
    for key, value in found.items():
        name = str(key)[:MAX_NAME_CHARS]
        if only_credit_keys and "credit" not in name.lower():
            continue
        amount = number(value)
        if amount is not None and len(units) < MAX_UNITS:
            units[name] = amount
    return units


def cost_object(units: Mapping[str, float], duration_s: float | None) -> dict[str, Any] | None:
    """`{"units", "duration_s"}`, or None when there is nothing to report."""
    if not units and duration_s is None:
        return None
    rounded = round(duration_s, 3) if duration_s is not None else None
    return {"units": dict(units), "duration_s": rounded}


def span_s(start: Any, end: Any, *, scale: float = 1.0) -> float | None:
    """`(end - start) / scale` when both are numbers and end >= start."""
    first, last = number(start), number(end)
    if first is None or last is None or last < first:
        return None
    return (last - first) / scale


def keep_reported(state: ProviderState, reported: ProviderState) -> ProviderState:
    """`state` (re-read from the provider) keeping what only the callback carried: cost
    fields (kie's `costTime`, credits) and, while running, a progress report's figure."""
    if state is reported:
        return state
    if not state.is_final and state.progress is None and reported.progress is not None:
        state = dataclasses.replace(state, progress=reported.progress)
    if reported.cost is None:
        return state
    mine = state.cost or {"units": {}, "duration_s": None}
    units = {**reported.cost.get("units", {}), **mine.get("units", {})}
    duration = mine.get("duration_s")
    if reported.cost.get("duration_s") is not None:
        duration = reported.cost["duration_s"]  # e.g. kie's costTime, the provider's own figure
    return dataclasses.replace(state, cost=cost_object(units, duration))
