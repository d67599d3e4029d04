"""HAL pagination for the legacy videos service.

A listing answers ``{page, pageSize, _links: {self, next, ...}, _embedded: {<key>: [...]}}``.
:class:`HalPaginator` fetches the first page from the listing URL and then follows each
page's ``next`` link until there is none. Links are resolved against the page that carried
them and must stay on the service's origin (the bearer token must not leak elsewhere); a
link seen twice ends the walk instead of looping.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Generator
from typing import Any, TypeVar

from yarl import URL

from ..errors import InvalidResponseError
from ..models.converter import structure
from ..models.legacy import HalPage
from ..pagination import ItemPaginator
from .errors import UnsafeLinkError

T = TypeVar("T")

FetchJson = Callable[[str], Awaitable[Any]]


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def parse_links(data: Any) -> dict[str, str]:
    """``{relation: href}`` from a HAL ``_links`` object (malformed entries are skipped)."""
    links = data.get("_links") if isinstance(data, dict) else None
    if not isinstance(links, dict):
        return {}
    result: dict[str, str] = {}
    for rel, link in links.items():
        href = link.get("href") if isinstance(link, dict) else None
        if isinstance(href, str) and href:
            result[str(rel)] = href
    return result


def parse_hal_page(data: Any, key: str, cls: type[T]) -> HalPage[T]:
    """One page of ``cls`` items embedded under ``_embedded[key]``.

    A page without ``_embedded`` is an empty page (HAL omits empty collections); a body that
    is not a JSON object, or an item of the wrong shape, is an InvalidResponseError.
    """
    if not isinstance(data, dict):
        raise InvalidResponseError(f"a page of {cls.__name__} must be a JSON object")
    try:
        return _hal_page(data, key, cls)
    except Exception as exc:
        raise InvalidResponseError(
            f"response is not a valid page of {cls.__name__}: {type(exc).__name__}"
        ) from exc


def _hal_page(data: dict[str, Any], key: str, cls: type[T]) -> HalPage[T]:
    embedded = data.get("_embedded")
    raw_items = embedded.get(key) if isinstance(embedded, dict) else None
    items = [structure(item, cls) for item in raw_items or [] if isinstance(item, dict)]
    return HalPage(
        items=items,
        page=_int_or_none(data.get("page")),
        page_size=_int_or_none(data.get("pageSize")),
        links=parse_links(data),
    )


def resolve_link(href: str, *, current: str, origin: str) -> str:
    """``href`` made absolute against ``current``; refused when it leaves ``origin``."""
    target = URL(current).join(URL(href))
    allowed = URL(origin)
    if (target.scheme, target.host, target.port) != (allowed.scheme, allowed.host, allowed.port):
        raise UnsafeLinkError(f"pagination link to another origin refused: {target.origin()}")
    return str(target)


class HalPaginator(ItemPaginator[T]):
    """Lazy HAL listing: ``await`` → first page, ``async for`` → every item, ``pages()``."""

    def __init__(self, fetch: FetchJson, first_url: str, *, key: str, cls: type[T]) -> None:
        self._fetch = fetch
        self._first_url = first_url
        self._key = key
        self._cls = cls

    async def _page(self, url: str) -> HalPage[T]:
        return parse_hal_page(await self._fetch(url), self._key, self._cls)

    def __await__(self) -> Generator[Any, None, HalPage[T]]:
        return self._page(self._first_url).__await__()

    async def pages(self) -> AsyncIterator[HalPage[T]]:
        """Yield each page, following ``next`` links."""
        url = self._first_url
        seen = {url}
        while True:
            page = await self._page(url)
            yield page
            href = page.next_href
            if href is None or not page.items:
                return
            url = resolve_link(href, current=url, origin=self._first_url)
            if url in seen:
                return
            seen.add(url)
