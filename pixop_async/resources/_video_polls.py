"""Poll specifications for imports, ingestion and exports, on top of :mod:`..polling`.

Each spec says when a status is final, whether it is a failure (with the server's error
code and message) and how far along it is; :class:`VideoPoll` runs it with the client's
shared poll budget.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from .. import polling
from ..models.videos import OperationStatus, VideoInStatus, VideoOutStatus
from ..polling import PollSpec
from ..webhooks.waiting import wait_for_event

if TYPE_CHECKING:
    from ..webhooks.receiver import WebhookReceiver
    from ._base import Resource

S = TypeVar("S")

_TERMINAL = (OperationStatus.DONE, OperationStatus.FAILED)


# -- import ("video in") ----------------------------------------------------------------


def _upload_failure(state: VideoInStatus) -> polling.PollFailure | None:
    upload_state = state.upload.upload_state
    if upload_state is None or upload_state.upload_status != OperationStatus.FAILED:
        return None
    error = upload_state.error
    if error is None:
        return polling.PollFailure("import failed")
    return polling.PollFailure(f"import failed: {error.message}", error.code)


def _upload_progress(state: VideoInStatus) -> float | None:
    upload_state = state.upload.upload_state
    return None if upload_state is None else upload_state.progress_percentage


IMPORT = PollSpec[VideoInStatus](
    is_terminal=lambda s: s.upload_status in _TERMINAL,
    failure_of=_upload_failure,
    progress_of=_upload_progress,
)


# -- ingestion --------------------------------------------------------------------------


def _ingestion_failure(state: VideoInStatus) -> polling.PollFailure | None:
    upload_failure = _upload_failure(state)
    if upload_failure is not None:
        return upload_failure
    if state.ingestion_status == OperationStatus.FAILED:
        return polling.PollFailure("ingestion failed", "INGESTION_FAILED")
    return None


def _ingestion_progress(state: VideoInStatus) -> float | None:
    if state.ingestion is None:
        # Still importing: report the import's progress scaled into the first half.
        upload = _upload_progress(state)
        return None if upload is None else upload / 2
    return state.ingestion.ingestion_state.progress_percentage


INGESTION = PollSpec[VideoInStatus](
    is_terminal=lambda s: (
        s.upload_status == OperationStatus.FAILED or s.ingestion_status in _TERMINAL
    ),
    failure_of=_ingestion_failure,
    progress_of=_ingestion_progress,
)


# -- export ("video out") ---------------------------------------------------------------


def _export_failure(state: VideoOutStatus) -> polling.PollFailure | None:
    if state.status != OperationStatus.FAILED:
        return None
    detail = state.output.state.error_message if state.output.state else None
    return polling.PollFailure(f"export failed: {detail or 'no details'}", "VIDEO_OUT_FAILED")


EXPORT = PollSpec[VideoOutStatus](
    is_terminal=lambda s: s.status in _TERMINAL,
    failure_of=_export_failure,
    progress_of=lambda s: s.output.state.progress_percentage if s.output.state else None,
)


#: Webhook events that end each kind of wait (clips report under their own names).
IMPORT_EVENTS = ("video_in.done", "video_in.failed")
INGESTION_EVENTS = ("video_in_ingestion.done", "video_in_ingestion.failed", "video_in.failed")
EXPORT_EVENTS = ("video_out.done", "video_out.failed")
PROCESSING_EVENTS = (
    "video_processing.done",
    "video_processing.failed",
    "clip_processing.done",
    "clip_processing.failed",
)
PROCESSED_INGESTION_EVENTS = (
    "video_processing_ingestion.done",
    "video_processing_ingestion.failed",
    "video_processing.failed",
    "clip_ingestion.done",
    "clip_ingestion.failed",
    "clip_processing.failed",
)


#: The first safety-net poll of a webhook wait comes after this many slowest poll intervals.
SAFETY_FACTOR = 4.0


class VideoPoll(polling.Poll[S]):
    """One poll of ``fetch`` under ``spec``, paced by the client's poll budget."""

    def __init__(
        self,
        resource: Resource,
        fetch: Callable[[], Awaitable[S]],
        spec: PollSpec[S],
        intervals: polling.PollIntervals | None,
    ) -> None:
        super().__init__(fetch, spec, budget=resource._client.poll_budget, intervals=intervals)
        self._slowest = (intervals or polling.PollIntervals()).maximum

    async def wait_for(
        self,
        video_id: str,
        *,
        timeout: float | None,
        receiver: WebhookReceiver | None,
        events: tuple[str, ...],
    ) -> S:
        """:meth:`wait`, woken early by a webhook ``receiver`` when one is given.

        The receiver's event only ends the waiting; the final state is always read from the
        API (the first poll after the event sees it), so results and failures are exactly
        those of plain polling. Until the event comes the wait costs no request: a late
        safety-net poll first goes out after ``SAFETY_FACTOR * intervals.maximum`` seconds
        (a minute by default), later ones ever more rarely, all drawn from the client's
        budget. Lost webhooks cost latency, never correctness.
        """
        if receiver is None:
            return await self.wait(timeout=timeout)
        deadline = None if timeout is None else time.monotonic() + timeout

        async def terminal_or_none() -> S | None:
            state = await self._fetch()
            return state if self._spec.is_terminal(state) else None

        await wait_for_event(
            receiver,
            video_id,
            events,
            fallback=terminal_or_none,
            timeout=timeout,
            poll_interval=self._slowest * SAFETY_FACTOR,
        )
        left = None if deadline is None else max(0.0, deadline - time.monotonic())
        return await self.wait(timeout=left)
