"""``ListCall``: the result of an unpaged list call, usable with ``await`` and ``async for``.

Paged listings return an :class:`~pixop_async.pagination.AsyncPaginator`, which supports
both forms; a few endpoints answer one plain JSON array. Returning a bare coroutine from
those made ``async for`` a TypeError while it works on every other ``list()``; this wrapper
keeps the two forms interchangeable. Each ``await`` or ``async for`` makes one request.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Generator
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class ListCall(Generic[T]):
    """``await call`` gives the whole list; ``async for item in call`` walks it."""

    __slots__ = ("_fetch",)

    def __init__(self, fetch: Callable[[], Awaitable[list[T]]]) -> None:
        self._fetch = fetch

    async def _get(self) -> list[T]:
        return await self._fetch()

    def __await__(self) -> Generator[Any, None, list[T]]:
        return self._get().__await__()

    async def __aiter__(self) -> AsyncIterator[T]:
        for item in await self._fetch():
            yield item
