"""`Slot[T]`: how a part hands a live service to routes and other parts, typed.

Routes are built when the app is created, the services they use only when it starts
(they need the open database and HTTP clients). A part therefore creates an empty slot
at construction, gives it to whoever needs the service (its own routes, another part
through the composition function), and fills it in `start()`. Nothing is looked up by
name: the slot's type says what it holds, and mypy checks every use.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from starlette.requests import Request
from starlette.responses import Response

from receiver.errors import ConfigError

T = TypeVar("T")
Endpoint = Callable[[Request], Awaitable[Response]]


class Slot(Generic[T]):
    """A service that exists once its part has started (`get`), or not at all (`peek`)."""

    def __init__(self, what: str) -> None:
        self._what = what
        self._value: T | None = None

    def fill(self, value: T) -> None:
        """Called once by the owning part's `start()`."""
        self._value = value

    def peek(self) -> T | None:
        """The service, or None when its part is off or not started."""
        return self._value

    def get(self) -> T:
        """The service; a clear error when its part is not running in this process."""
        if self._value is None:
            raise ConfigError(f"{self._what} is not running in this process")
        return self._value


def bind(handler: Callable[[T, Request], Awaitable[Response]], service: T) -> Endpoint:
    """A Starlette endpoint calling `handler(service, request)`."""

    async def endpoint(request: Request) -> Response:
        return await handler(service, request)

    endpoint.__name__ = getattr(handler, "__name__", "endpoint")
    endpoint.__doc__ = handler.__doc__
    return endpoint
