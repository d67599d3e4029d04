"""Poll specifications and pollers of imports, ingestion and exports (:mod:`..polling`).

Each spec says when a status is final, whether it is a failure (with the server's error
code and message) and how far along it is; each :class:`~pixop_async.polling.Poller` pairs
one with the resource method that reads the status and the webhook events that end a wait.
"""

from __future__ import annotations

from .. import polling
from ..models.videos import OperationStatus, VideoInStatus, VideoOutStatus
from ..polling import PollSpec

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


#: Re-exported: the first safety-net poll of a webhook wait comes after this many slowest
#: poll intervals.
SAFETY_FACTOR = polling.SAFETY_FACTOR

IMPORT_POLLER = polling.Poller[VideoInStatus]("status", IMPORT, IMPORT_EVENTS)
INGESTION_POLLER = polling.Poller[VideoInStatus]("status", INGESTION, INGESTION_EVENTS)
EXPORT_POLLER = polling.Poller[VideoOutStatus]("status", EXPORT, EXPORT_EVENTS)
