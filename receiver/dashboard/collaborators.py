"""What the dashboard shows from the other parts, each absent when that part is.

The composition function passes the other parts' slots in; the dashboard never
looks a service up by name.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from receiver.fanout.fanout import Fanout
from receiver.media.archive import Archive
from receiver.slot import Slot

# each configured provider's base URL, key state and credits (the dispatcher reads them)
ProviderAccounts = Callable[[], Awaitable[list[dict[str, object]]]]


@dataclass(frozen=True)
class Collaborators:
    """Slots of the parts the dashboard reads from."""

    accounts: Slot[ProviderAccounts] | None = None
    media: Slot[Archive] | None = None
    fanout: Slot[Fanout] | None = None
