"""Account, users, teams, projects and API keys."""

from __future__ import annotations

import datetime as dt

import attrs

from ..ids import ApiKeyId, ProjectId, TeamId, UserId
from .enums import OpenEnum


class BillingType(OpenEnum):
    """How a team pays for processing."""

    STRIPE = "STRIPE"
    AWS_MARKETPLACE = "AWS_MARKETPLACE"


@attrs.frozen
class User:
    id: UserId
    created_at: dt.datetime
    updated_at: dt.datetime
    email: str
    name: str
    has_confirmed_email: bool


@attrs.frozen
class Team:
    id: TeamId
    created_at: dt.datetime
    updated_at: dt.datetime
    name: str
    api_enabled: bool
    billing_type: BillingType | None = None


@attrs.frozen
class Account:
    """The user and default team behind an API key."""

    user: User
    default_team: Team


@attrs.frozen
class Project:
    id: ProjectId
    created_at: dt.datetime
    updated_at: dt.datetime
    name: str
    is_sample: bool
    team_id: TeamId


@attrs.frozen
class ApiKey:
    """An API key. ``api_key`` (the full secret) is only set right after creation and is
    hidden from the repr."""

    id: ApiKeyId
    created_at: dt.datetime
    updated_at: dt.datetime
    user_id: UserId
    active: bool
    name: str
    api_key_hidden: str
    description: str | None = None
    api_key: str | None = attrs.field(default=None, repr=False)
    deletion_eligible_at: dt.date | None = None


@attrs.frozen
class ProjectPost:
    name: str


@attrs.frozen
class ProjectPatch:
    name: str | None = None


@attrs.frozen
class ApiKeyPost:
    name: str
    active: bool
    description: str | None = None


@attrs.frozen
class ApiKeyPatch:
    name: str | None = None
    description: str | None = None
