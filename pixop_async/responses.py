"""Response metadata of successful API calls: :func:`capture_responses`.

Pixop's API documents no request-id response header: its ``requestId`` exists only in
error bodies, where it is :attr:`pixop_async.errors.APIStatusError.request_id`. A successful
call returns a model and nothing else, so its status and headers (to give Pixop support,
or to read a header the API may add later) are collected here instead, per context: every
API call awaited inside ``with capture_responses() as seen:`` — in the block's task and in
tasks it starts — appends one :class:`ResponseInfo`. Concurrent code outside the block is
not recorded, and nothing is kept once the block ends.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator, Mapping

import attrs

_capture: contextvars.ContextVar[list[ResponseInfo] | None] = contextvars.ContextVar(
    "pixop_capture_responses", default=None
)


@attrs.frozen
class ResponseInfo:
    """One successful API response: the final attempt's status and headers.

    ``url`` carries no query string (pre-signed URLs hold signatures); ``attempts`` counts
    the attempts the call needed (1 when it was not retried)."""

    method: str
    url: str
    status: int
    headers: Mapping[str, str] = attrs.field(repr=False)
    attempts: int = 1

    def header(self, name: str) -> str | None:
        """The value of header ``name`` (case-insensitive), or ``None``."""
        wanted = name.lower()
        for key, value in self.headers.items():
            if key.lower() == wanted:
                return value
        return None


@contextlib.contextmanager
def capture_responses() -> Iterator[list[ResponseInfo]]:
    """Collect a :class:`ResponseInfo` for every successful API call made in the block.

    ``with capture_responses() as seen: video = await px.videos.get(video_id)``, then
    ``seen[-1].status`` and ``seen[-1].headers``. Blocks nest: an inner block collects its
    own calls only. Transfer requests (downloads, uploads) are not API calls and are not
    recorded; failed calls raise errors that carry their own status and request id."""
    seen: list[ResponseInfo] = []
    token = _capture.set(seen)
    try:
        yield seen
    finally:
        _capture.reset(token)


def record(info: ResponseInfo) -> None:
    """Append ``info`` to the innermost active :func:`capture_responses` list, if any."""
    seen = _capture.get()
    if seen is not None:
        seen.append(info)


def capturing() -> bool:
    """Whether a :func:`capture_responses` block is active in this context."""
    return _capture.get() is not None
