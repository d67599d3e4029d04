"""Async pagination over the API's page envelopes.

``await paginator`` gives the first page, ``async for item in paginator`` every item across
pages, and ``paginator.pages()`` each page in turn. A page from either can fetch the one
after it: ``page.has_next_page()`` / ``await page.get_next_page()``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Sequence
from typing import Any, Generic, Protocol, TypeVar

from .models.common import Page, link_next_page

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)
#: A page envelope: :class:`Page` or a subclass with more fields (billing pages).
PageT = TypeVar("PageT", bound=Page[Any])

PageFetcher = Callable[[int], Awaitable[Page[T]]]


class PageOfItems(Protocol[T_co]):
    """Any page envelope that carries its ``items``."""

    @property
    def items(self) -> Sequence[T_co]: ...


class ItemPaginator(Generic[T]):
    """Item-level iteration shared by the paginators: a subclass provides :meth:`pages`,
    this adds ``async for item in paginator`` and :meth:`to_list`."""

    def pages(self) -> AsyncIterator[PageOfItems[T]]:
        raise NotImplementedError

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


class EnvelopePaginator(ItemPaginator[T], Generic[T, PageT]):
    """Lazily fetches pages starting at ``start_page``; nothing is sent until it is used.

    ``T`` is the item type and ``PageT`` the page envelope: ``await`` gives the first
    ``PageT`` and :meth:`pages` yields ``PageT`` objects, so envelopes that carry more than
    items (a billing page's ``totals``) stay typed.
    """

    def __init__(self, fetch: Callable[[int], Awaitable[PageT]], *, start_page: int = 0) -> None:
        self._fetch_unlinked = fetch
        self._start_page = start_page

    async def _fetch(self, number: int) -> PageT:
        """Page ``number``, linked so that it can fetch the next one itself.

        The walk goes by the number asked for, not the ``pageNumber`` the server answers
        with: a server stuck on ``pageNumber: 0`` was otherwise asked for page 1 forever."""
        return link_next_page(await self._fetch_unlinked(number), self._fetch, number)

    def __await__(self) -> Generator[object, None, PageT]:
        return self._fetch(self._start_page).__await__()

    async def pages(self) -> AsyncIterator[PageT]:
        """Yield each page until the last one (or the first empty one)."""
        number = self._start_page
        while True:
            page = await self._fetch(number)
            yield page
            if not page.has_next_page():
                return
            number += 1


class AsyncPaginator(EnvelopePaginator[T, Page[T]]):
    """The paginator of the plain :class:`Page` envelope: ``AsyncPaginator[Project]``."""
