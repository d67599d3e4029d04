"""Lifecycle shared by the clients and other closeable objects: ``async with`` and close().

:class:`AsyncClosing` gives any object with an async ``close()`` the ``async with`` protocol;
:class:`HttpClientLifecycle` adds what both API clients expose about their
:class:`~pixop_async._session.HttpSession` (``close``, ``closed``, ``http``).
"""

from __future__ import annotations

from types import TracebackType
from typing import TypeVar

from ._session import HttpSession

_Self = TypeVar("_Self", bound="AsyncClosing")


class AsyncClosing:
    """``async with obj:`` returns ``obj`` and awaits ``obj.close()`` on the way out."""

    async def close(self) -> None:
        raise NotImplementedError

    async def __aenter__(self: _Self) -> _Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


class HttpClientLifecycle(AsyncClosing):
    """Base of the API clients: they own (or borrow) one :class:`HttpSession` in ``_http``."""

    _http: HttpSession

    async def close(self) -> None:
        """Release the HTTP session (if the client owns it)."""
        await self._http.close()

    @property
    def closed(self) -> bool:
        return self._http.closed

    @property
    def http(self) -> HttpSession:
        """The session layer (shared with the transfer engine and advanced callers)."""
        return self._http
