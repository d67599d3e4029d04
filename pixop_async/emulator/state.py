"""In-memory state of the emulator: who exists, what they own.

Entities are stored as dicts already in the API's JSON shape, so routes answer by copying
them. Areas added later keep their own stores as attributes here.
"""

from __future__ import annotations

import datetime as dt
import secrets
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .clock import Clock, iso
from .config import EmulatorConfig
from .http import new_id

#: Age of the seeded teams: older than the billing history the emulator gives them.
SEED_TEAM_AGE_DAYS = 400


class EmulatorState:
    """Everything the emulator knows; one instance per server."""

    def __init__(self, config: EmulatorConfig | None = None) -> None:
        self.config = config or EmulatorConfig()
        self.clock = Clock()
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if self.config.data_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="pixop-emulator-")
            self.data_dir = Path(self._tmp.name)
        else:
            self.data_dir = Path(self.config.data_dir)
            self.data_dir.mkdir(parents=True, exist_ok=True)
        self.users: dict[str, dict[str, Any]] = {}
        self.passwords: dict[str, str] = {}  # user id -> password
        self.banned_users: set[str] = set()
        self.teams: dict[str, dict[str, Any]] = {}
        self.team_members: dict[str, list[str]] = {}  # user id -> team ids, eldest first
        self.projects: dict[str, dict[str, Any]] = {}
        self.api_keys: dict[str, dict[str, Any]] = {}
        self.api_key_secrets: dict[str, str] = {}  # secret -> key id
        self.videos: dict[str, dict[str, Any]] = {}
        #: token -> media.Presigned, for URLs issued by media.presign
        self.presigned: dict[str, Any] = {}
        #: callables(event_type, video_id) told of every video event (webhook delivery)
        self.event_listeners: list[Callable[[str, str], None]] = []
        self.seed_user_id = ""
        self.seed_api_key = ""
        self._seed()

    def emit(self, event_type: str, video_id: str) -> None:
        """Announce a video event (``video_in.done``, ...) to every listener."""
        for listener in list(self.event_listeners):
            listener(event_type, video_id)

    def close(self) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    # -- creation helpers -------------------------------------------------------------

    def stamp(self) -> dict[str, str]:
        """Fresh ``id``/``createdAt``/``updatedAt`` fields."""
        now = iso(self.clock.now())
        return {"id": new_id(), "createdAt": now, "updatedAt": now}

    def touch(self, entity: dict[str, Any]) -> None:
        entity["updatedAt"] = iso(self.clock.now())

    def add_user(self, email: str, password: str, name: str) -> dict[str, Any]:
        user: dict[str, Any] = {
            **self.stamp(),
            "email": email,
            "name": name,
            "hasConfirmedEmail": True,
        }
        self.users[user["id"]] = user
        self.passwords[user["id"]] = password
        self.team_members[user["id"]] = []
        return user

    def add_team(
        self,
        user_id: str,
        name: str,
        *,
        api_enabled: bool = True,
        billing_type: str | None = "STRIPE",
    ) -> dict[str, Any]:
        team: dict[str, Any] = {
            **self.stamp(),
            "name": name,
            "apiEnabled": api_enabled,
            "billingType": billing_type,
        }
        self.teams[team["id"]] = team
        self.team_members[user_id].append(team["id"])
        return team

    def add_project(self, team_id: str, name: str, *, is_sample: bool = False) -> dict[str, Any]:
        project: dict[str, Any] = {
            **self.stamp(),
            "name": name,
            "isSample": is_sample,
            "teamId": team_id,
        }
        self.projects[project["id"]] = project
        return project

    def add_api_key(
        self, user_id: str, name: str, *, active: bool = True, description: str | None = None
    ) -> tuple[dict[str, Any], str]:
        secret = "pxk_" + secrets.token_urlsafe(24)
        key: dict[str, Any] = {
            **self.stamp(),
            "userId": user_id,
            "active": active,
            "name": name,
            "description": description,
            "apiKeyHidden": "*" * 20 + secret[-3:],
            "deletionEligibleAt": None,
        }
        self.api_keys[key["id"]] = key
        self.api_key_secrets[secret] = key["id"]
        return key, secret

    def _seed(self) -> None:
        cfg = self.config
        user = self.add_user(cfg.seed_email, cfg.seed_password, cfg.seed_user_name)
        self.seed_user_id = user["id"]
        main = self.add_team(user["id"], "Emulator Team")
        second = self.add_team(user["id"], "Second Team", billing_type="AWS_MARKETPLACE")
        # the seeded teams come with a billing history (billing_history.py), so they are older
        oldest = self.clock.now() - dt.timedelta(days=SEED_TEAM_AGE_DAYS)
        for order, team in enumerate((main, second)):  # keeping their creation order
            team["createdAt"] = team["updatedAt"] = iso(oldest + dt.timedelta(seconds=order))
        self.add_project(main["id"], "Default Project")
        _, self.seed_api_key = self.add_api_key(user["id"], "emulator seed key")

    # -- lookups ------------------------------------------------------------------------

    def user_by_email(self, email: str) -> dict[str, Any] | None:
        return next((u for u in self.users.values() if u["email"] == email), None)

    def user_for_api_key(self, secret: str) -> dict[str, Any] | None:
        key_id = self.api_key_secrets.get(secret)
        if key_id is None:
            return None
        key = self.api_keys.get(key_id)
        if key is None or not key["active"]:
            return None
        return self.users.get(key["userId"])

    def user_teams(self, user_id: str) -> list[dict[str, Any]]:
        return [self.teams[t] for t in self.team_members.get(user_id, []) if t in self.teams]

    def default_team(self, user_id: str) -> dict[str, Any] | None:
        """The eldest API-enabled team of the user."""
        enabled = [t for t in self.user_teams(user_id) if t["apiEnabled"]]
        return min(enabled, key=lambda t: t["createdAt"]) if enabled else None

    def team_ids(self, user_id: str) -> set[str]:
        return set(self.team_members.get(user_id, []))
