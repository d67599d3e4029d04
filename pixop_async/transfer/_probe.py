"""The first request of a download, and of a resumed one.

A fresh download asks ``bytes=0-``: the answer tells the size and the validator and its
body feeds the first segment. A resume whose journal was read before any request (see
:meth:`~._resume.ResumingEngine._resume_hint`) asks only for the first missing segment,
pinned to the journaled version, so no answer starting at byte 0 is opened and closed
unread; an answer of another version sends the download back to ``bytes=0-``.
"""

from __future__ import annotations

import contextlib
import logging

from .._session import StreamResponse
from ..errors import APIConnectionError, APIStatusError
from ._pin import validator_of
from ._resume import ResumeHint, ResumingEngine
from .ranges import ContentRange, parse_content_length, parse_content_range

log = logging.getLogger("pixop_async.transfer")


class ProbingEngine(ResumingEngine):
    """Opens the first request of a download."""

    async def _probe(
        self, start: int = 0, end: int | None = None, passed: frozenset[int] = frozenset({416})
    ) -> tuple[contextlib.AsyncExitStack, StreamResponse]:
        """Open the first request (``bytes=0-``: its answer tells the size and the validator,
        and its body is the first segment; on a resume, the pinned range ``start``..``end``),
        renewing the URL if it was refused. Error statuses in ``passed`` are returned."""
        attempt, waited = 0, 0.0
        while True:
            stack = contextlib.AsyncExitStack()
            try:
                await stack.enter_async_context(self.activity.connection(self.scheduler))
                url, generation = await self.source.get()
                headers = self._request_headers(start, end)
                if self.if_none_match:
                    headers["If-None-Match"] = self.if_none_match
                resp = await stack.enter_async_context(
                    self.http.stream("GET", url, headers=headers, auth=self.auth)
                )
                if resp.status == 403 and self.source.renewable:
                    await stack.aclose()
                    await self.source.renew(generation)
                    continue
                if resp.status >= 400 and resp.status not in passed:
                    await self.http.raise_for_stream_status(resp)
                return stack, resp
            except (APIConnectionError, APIStatusError) as exc:
                await stack.aclose()
                attempt += 1
                waited += await self._retry_or_raise(exc, attempt, waited)
            except BaseException:
                await stack.aclose()
                raise

    async def _open_resume(
        self, hint: ResumeHint
    ) -> tuple[contextlib.AsyncExitStack, StreamResponse] | None:
        """Open the first request of a resume: the first missing bytes, pinned to the
        journaled version (nothing before them is asked for, so nothing is closed unread).
        Returned when answered with that very range of that version, or with the whole of
        that version (200: the store ignores ranges, handled as a 200 to ``bytes=0-``).
        Any other answer (412, 416, another version or size) is closed and None returned:
        the download then starts over with ``bytes=0-``."""
        self.validator = hint.validator
        stack, resp = await self._probe(hint.start, hint.end, frozenset({412, 416}))
        found = validator_of(resp.headers)
        same = found is not None and found.key == hint.validator.key
        if same and resp.status == 206:
            # exactly the range asked for, and the size shown (not only not contradicted):
            # the download's size is then the journal's
            wanted = ContentRange(hint.start, hint.end, hint.journal.size)
            if parse_content_range(resp.headers.get("Content-Range")) == wanted:
                return stack, resp
        elif same and resp.status == 200:
            length = parse_content_length(resp.headers.get("Content-Length"))
            if length == hint.journal.size:
                self.validator = None  # one stream, as for a 200 to the first request
                return stack, resp
        await stack.aclose()
        log.info("the resume journal's version is not served as it was; starting over")
        self.validator = None
        return None
