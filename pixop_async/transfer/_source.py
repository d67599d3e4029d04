"""Where a download's bytes come from: a URL that may expire and be renewed."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from ..errors import TransferError

#: A renewed URL, optionally with its expiry as unix time.
RefreshedUrl = str | tuple[str, float | None]
RefreshUrl = Callable[[], Awaitable[RefreshedUrl]]


class UrlSource:
    """The current URL of a download plus the single-flight logic that renews it.

    Several parts may see the same expiry (403) at once; ``renew`` is called with the URL
    generation each one used, so only the first triggers a refresh and the rest reuse it.
    """

    def __init__(
        self,
        url: str,
        refresh: RefreshUrl | None,
        *,
        expires_at: float | None = None,
        max_refreshes: int = 8,
        margin: float = 5.0,
    ) -> None:
        self.url = url
        self.expires_at = expires_at
        self._refresh = refresh
        self._max = max_refreshes
        self._margin = margin
        self.generation = 0
        self.refreshes = 0
        self._lock = asyncio.Lock()

    @property
    def renewable(self) -> bool:
        return self._refresh is not None

    async def get(self) -> tuple[str, int]:
        """The URL to use now (renewed first when it is about to expire) and its generation."""
        if (
            self._refresh is not None
            and self.expires_at is not None
            and time.time() >= self.expires_at - self._margin
        ):
            await self.renew(self.generation)
        return self.url, self.generation

    async def renew(self, seen_generation: int) -> None:
        """Fetch a fresh URL unless another part already did since ``seen_generation``."""
        if self._refresh is None:
            raise TransferError("the download URL expired and no way to renew it was given")
        async with self._lock:
            if self.generation != seen_generation:
                return
            if self.refreshes >= self._max:
                raise TransferError(
                    f"the download URL was renewed {self.refreshes} times and is still refused"
                )
            fresh = await self._refresh()
            if isinstance(fresh, tuple):
                self.url, self.expires_at = fresh
            else:
                self.url, self.expires_at = fresh, None
            self.generation += 1
            self.refreshes += 1
