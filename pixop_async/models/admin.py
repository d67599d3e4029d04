"""Models of the admin Pixop-Mimir integration (``/v1/admin/pixop-mimir-integration``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs

from ..ids import ProcessingConfigurationId, TeamId, WebhookId


@attrs.frozen
class MimirSetup:
    """How Pixop should configure the Mimir tenant (the request's ``mimirSetup`` object).

    The API page documents this object only in prose: Mimir gets custom actions for
    ingesting and deleting videos in Pixop and one per listed processing configuration,
    plus settings for approval of processing jobs, what Pixop ingestion extracts
    (thumbnails, full frames, a web video) and the labels and tooltips of Mimir UI actions
    and option lists. The JSON names below are this SDK's reading of that prose; pass a
    plain mapping as ``mimir_setup`` instead to send exactly what your deployment expects.
    Unset (``None``) fields are left out of the request.
    """

    processing_configuration_ids: list[ProcessingConfigurationId] = attrs.field(factory=list)
    require_processing_approval: bool | None = None
    extract_thumbnails: bool | None = None
    extract_full_frames: bool | None = None
    extract_web_video: bool | None = None
    #: UI text overrides, keyed by action or option-list name.
    labels: dict[str, str] | None = None
    tooltips: dict[str, str] | None = None


@attrs.frozen
class MimirIntegrationRequest:
    """Body of the create-or-update call."""

    mimir_notification_user_id: str
    mimir_setup: Any = None  # a MimirSetup's JSON or a caller's mapping


@attrs.frozen
class MimirIntegration:
    """The integration as the API reports it after a create or update.

    ``manual_steps`` lists what an administrator still has to do in Mimir by hand to finish
    the setup (empty when nothing is left). ``expires_at`` is when the integration lapses
    unless it is renewed or new Pixop jobs reset its time to live.
    """

    mimir_tenant: str
    team_id: TeamId
    mimir_notification_user_id: str
    days_to_live: int
    tenant_idle_lease_window_hours: int
    max_processing_jobs_per_source_video: int
    comment_on_ingestion_finished: bool
    comment_on_processing_finished: bool
    webhook_id: WebhookId | None = None
    expires_at: dt.datetime | None = None
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    mimir_setup_applied: bool | None = None
    manual_steps: list[str] = attrs.field(factory=list)
