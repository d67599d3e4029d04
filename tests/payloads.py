"""API-shaped JSON bodies for tests that answer requests with hand-made servers or mocks."""

from __future__ import annotations

from typing import Any

USER_ID = "6c1c3c1e-3ad2-4b8e-9d1f-6a1f1fb0b0a1"
TEAM_ID = "6c1c3c1e-3ad2-4b8e-9d1f-6a1f1fb0b0a2"
STAMP = "2024-01-01T00:00:00Z"


def account_json(email: str) -> dict[str, Any]:
    """A ``GET /v1/account`` body: a confirmed user ``email`` and an API-enabled team."""
    return {
        "user": {
            "id": USER_ID,
            "createdAt": STAMP,
            "updatedAt": STAMP,
            "email": email,
            "name": "n",
            "hasConfirmedEmail": True,
        },
        "defaultTeam": {
            "id": TEAM_ID,
            "createdAt": STAMP,
            "updatedAt": STAMP,
            "name": "t",
            "apiEnabled": True,
        },
    }
