"""One static type per kind of id, so a type checker catches a project id passed as a video id.

Each id is a :func:`typing.NewType` over :class:`uuid.UUID`: model fields carry them
(``Project.id`` is a :data:`ProjectId`, ``Video.project_id`` too), and at run time they are
plain ``uuid.UUID`` objects — nothing changes for code that compares or prints them.

Resource methods take ``VideoId | str``: the id of the right kind from a model, or any text
(an id read from a file, a command line or an environment variable, checked to be a UUID
before any request). What a type checker refuses is an id of another kind — and a bare
``uuid.UUID``, which carries no kind: wrap it, ``VideoId(uuid.UUID(text))``, or pass its text.

At run time every method still accepts a ``uuid.UUID`` or its text, as before.
"""

from __future__ import annotations

import uuid
from typing import NewType

__all__ = [
    "ApiKeyId",
    "AppraisalId",
    "BillingPeriodId",
    "ClipId",
    "LocationId",
    "ProcessingConfigurationId",
    "ProjectId",
    "TeamId",
    "UserId",
    "VideoId",
    "WebhookEventId",
    "WebhookId",
    "WebhookPublicKeyId",
]

TeamId = NewType("TeamId", uuid.UUID)
"""A team (``Team.id``; ``team_id`` and ``select_team_id`` parameters)."""
UserId = NewType("UserId", uuid.UUID)
"""A user (``User.id``)."""
ProjectId = NewType("ProjectId", uuid.UUID)
"""A project (``Project.id``, ``Video.project_id``)."""
VideoId = NewType("VideoId", uuid.UUID)
"""A video: master, clip or processed (``Video.id``)."""
ClipId = NewType("ClipId", uuid.UUID)
"""The clip a video belongs to (``Video.clip_id``; ``videos.list(clip_id=...)``)."""
ApiKeyId = NewType("ApiKeyId", uuid.UUID)
"""An API key (``ApiKey.id``)."""
LocationId = NewType("LocationId", uuid.UUID)
"""A stored input or output location (``S3Location.id``)."""
ProcessingConfigurationId = NewType("ProcessingConfigurationId", uuid.UUID)
"""A saved processing configuration (``VideoProcessingConfiguration.id``)."""
AppraisalId = NewType("AppraisalId", uuid.UUID)
"""A processing appraisal (``VideoProcessingAppraisal.appraisal_id``)."""
BillingPeriodId = NewType("BillingPeriodId", uuid.UUID)
"""A billing period (``BillingPeriod.id``)."""
WebhookId = NewType("WebhookId", uuid.UUID)
"""A webhook (``Webhook.id``)."""
WebhookEventId = NewType("WebhookEventId", uuid.UUID)
"""A webhook event (``WebhookEvent.id``, ``WebhookEventPayload.id``)."""
WebhookPublicKeyId = NewType("WebhookPublicKeyId", uuid.UUID)
"""A webhook signing public key (``WebhookPublicKey.id``)."""
