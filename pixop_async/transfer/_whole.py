"""One-stream downloads: the server ignores ranges, or nothing pins the object version.

The body is streamed from the first byte; a broken stream starts over from zero (never
resumed: without a validator the next request may serve another version). A repeated
request must answer 200 with the same length and ETag as the first.
"""

from __future__ import annotations

from .._session import StreamResponse
from ..errors import APIConnectionError, APIStatusError, TransferError
from ._engine import PartEngine
from ._fetch import PartState, SourceChanged
from ._pin import check_encoding
from .plan import Part
from .ranges import parse_content_length


class WholeStreamEngine(PartEngine):
    """Streams a whole object into the temp file, restarting from zero when it breaks."""

    def _check_whole(self, resp: StreamResponse, size: int | None) -> None:
        """A repeated whole-object answer must be the object seen first."""
        length = parse_content_length(resp.headers.get("Content-Length"))
        if size is not None and length is not None and length != size:
            raise SourceChanged("the object's size changed between requests")
        if self.etag and resp.headers.get("ETag") not in (None, self.etag):
            raise SourceChanged("the object's ETag changed between requests")

    async def _stream_whole(self, resp: StreamResponse | None, size: int | None) -> None:
        state = PartState()
        self.states = {0: state}
        attempt, waited = 0, 0.0
        current = resp
        while True:
            try:
                if current is not None:
                    await self._consume(current, state, base=0, expected=size)
                else:
                    async with self.activity.connection(self.scheduler):
                        url, _ = await self.source.get()
                        async with self.http.stream(
                            "GET", url, headers=self._request_headers(None, None), auth=self.auth
                        ) as again:
                            if again.status >= 400:
                                await self.http.raise_for_stream_status(again)
                            if again.status != 200:
                                raise TransferError(
                                    f"HTTP {again.status} is not an answer to a plain request"
                                )
                            check_encoding(again.headers)
                            self._check_whole(again, size)
                            await self._consume(again, state, base=0, expected=size)
                break
            except (APIConnectionError, APIStatusError) as exc:
                current = None
                self.progress.rollback(state.written)
                self.states[0] = state = PartState()
                attempt += 1
                waited += await self._retry_or_raise(exc, attempt, waited)
        self.size = state.written
        self.parts = [Part(0, 0, self.size - 1)] if self.size else []

    # -- endings ------------------------------------------------------------------------
