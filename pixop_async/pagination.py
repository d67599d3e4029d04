"""Async pagination over the API's page envelopes.

``await paginator`` gives the first page, ``async for item in paginator`` every item across
pages, and ``paginator.pages()`` each page in turn.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Generator
from typing import Generic, TypeVar

from .models.common import Page

T = TypeVar("T")

PageFetcher = Callable[[int], Awaitable[Page[T]]]


class AsyncPaginator(Generic[T]):
    """Lazily fetches pages starting at ``start_page``; nothing is sent until it is used."""

    def __init__(self, fetch: PageFetcher[T], *, start_page: int = 0) -> None:
        self._fetch = fetch
        self._start_page = start_page

    def __await__(self) -> Generator[object, None, Page[T]]:
        return self._fetch(self._start_page).__await__()

    async def pages(self) -> AsyncIterator[Page[T]]:
        """Yield each page until the last one (or the first empty one)."""
        number = self._start_page
        while True:
            page = await self._fetch(number)
            yield page
            if page.is_last or not page.items:
                return
            number = page.page_number + 1

    async def __aiter__(self) -> AsyncIterator[T]:
        async for page in self.pages():
            for item in page.items:
                yield item

    async def to_list(self, limit: int | None = None) -> list[T]:
        """Collect items across pages (at most ``limit`` of them)."""
        items: list[T] = []
        async for item in self:
            items.append(item)
            if limit is not None and len(items) >= limit:
                break
        return items
