"""The converter: camelCase JSON ↔ snake_case models, dates, UUIDs, open enums."""

from __future__ import annotations

import datetime as dt
import uuid

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pixop_async.models import Account, ApiKey, Page, Project, Team, structure, unstructure
from pixop_async.models.account import BillingType
from pixop_async.models.converter import parse_datetime, to_camel
from pixop_async.models.enums import SortDirection

NOW = "2024-05-01T12:30:45.123Z"


def _team(**extra: object) -> dict[str, object]:
    return {
        "id": str(uuid.uuid4()),
        "createdAt": NOW,
        "updatedAt": NOW,
        "name": "T",
        "apiEnabled": True,
        **extra,
    }


def test_camel_case_mapping() -> None:
    assert to_camel("crc32c_checksum") == "crc32cChecksum"
    assert to_camel("is_master") == "isMaster"
    assert to_camel("id") == "id"


def test_structure_account_with_nested_models() -> None:
    user = {
        "id": str(uuid.uuid4()),
        "createdAt": NOW,
        "updatedAt": NOW,
        "email": "a@b.c",
        "name": "A",
        "hasConfirmedEmail": False,
    }
    account = structure({"user": user, "defaultTeam": _team()}, Account)
    assert account.user.has_confirmed_email is False
    assert isinstance(account.default_team.id, uuid.UUID)
    assert account.default_team.created_at == dt.datetime(
        2024, 5, 1, 12, 30, 45, 123000, tzinfo=dt.timezone.utc
    )


def test_unknown_fields_are_ignored() -> None:
    team = structure(_team(somethingNew={"x": 1}), Team)
    assert team.name == "T"


def test_unknown_enum_value_is_kept() -> None:
    team = structure(_team(billingType="CRYPTO"), Team)
    assert team.billing_type is not None
    assert team.billing_type.value == "CRYPTO"
    assert not team.billing_type.known
    assert unstructure(team)["billingType"] == "CRYPTO"
    known = structure(_team(billingType="STRIPE"), Team)
    assert known.billing_type is BillingType.STRIPE and known.billing_type.known


def test_page_of_projects() -> None:
    project = {
        "id": str(uuid.uuid4()),
        "createdAt": NOW,
        "updatedAt": NOW,
        "name": "P",
        "isSample": False,
        "teamId": str(uuid.uuid4()),
    }
    page = structure(
        {
            "pageNumber": 2,
            "pageSize": 1,
            "numberOfElements": 1,
            "totalPages": 3,
            "totalElements": 3,
            "items": [project],
        },
        Page[Project],
    )
    assert page.is_last
    assert page.items[0].is_sample is False


def test_api_key_secret_hidden_from_repr() -> None:
    key = structure(
        {
            "id": str(uuid.uuid4()),
            "createdAt": NOW,
            "updatedAt": NOW,
            "userId": str(uuid.uuid4()),
            "active": True,
            "name": "k",
            "apiKeyHidden": "****abc",
            "apiKey": "super-secret-value-abc",
            "deletionEligibleAt": "2025-01-31",
        },
        ApiKey,
    )
    assert key.api_key == "super-secret-value-abc"
    assert "super-secret" not in repr(key)
    assert key.deletion_eligible_at == dt.date(2025, 1, 31)


@pytest.mark.parametrize(
    "text",
    [
        "2024-05-01T12:30:45Z",
        "2024-05-01T12:30:45.1Z",
        "2024-05-01T12:30:45.123456789+02:00",
        "2024-05-01T12:30:45",
    ],
)
def test_datetime_variants(text: str) -> None:
    value = parse_datetime(text)
    assert value.tzinfo is not None
    assert value.year == 2024


def test_none_fields_are_omitted_on_unstructure() -> None:
    from pixop_async.models.account import ApiKeyPatch

    assert unstructure(ApiKeyPatch(name="n")) == {"name": "n"}


def test_open_enum_accepts_known_and_unknown() -> None:
    assert SortDirection("ASC") is SortDirection.ASC
    assert SortDirection("SIDEWAYS").value == "SIDEWAYS"


_aware = st.datetimes(
    min_value=dt.datetime(1971, 1, 1),
    max_value=dt.datetime(2200, 1, 1),
    timezones=st.just(dt.timezone.utc),
)


@given(
    name=st.text(min_size=1, max_size=47),
    created=_aware,
    api_enabled=st.booleans(),
    billing=st.sampled_from([None, "STRIPE", "AWS_MARKETPLACE", "FUTURE"]),
)
def test_team_round_trip(
    name: str, created: dt.datetime, api_enabled: bool, billing: str | None
) -> None:
    team = Team(
        id=uuid.uuid4(),
        created_at=created,
        updated_at=created,
        name=name,
        api_enabled=api_enabled,
        billing_type=None if billing is None else BillingType(billing),
    )
    again = structure(unstructure(team), Team)
    assert again == team
    assert attrs.asdict(again) == attrs.asdict(team)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("pixopCredits", 1.7),  # a fraction of a credit must not be truncated to 1
        ("pixopCredits", True),
        ("pixopCredits", "1.5"),
        ("pixopCredits", [1]),
        ("videoId", {"nested": "junk"}),
        ("createdAt", 12),
    ],
)
def test_lossy_or_wrong_kind_scalars_are_refused(field: str, value: object) -> None:
    from pixop_async.models.billing import CreditsUsage

    body = {"createdAt": "2026-01-01T00:00:00Z", "type": "PROCESSING", "pixopCredits": 3}
    with pytest.raises(Exception):  # noqa: B017 - cattrs wraps the cause; decode() types it
        structure({**body, field: value}, CreditsUsage)


@pytest.mark.parametrize("value", ["NaN", "Infinity", float("nan"), float("inf"), True, {"a": 1}])
def test_money_is_finite(value: object) -> None:
    from pixop_async.models.billing import Transaction

    body = {"createdAt": "2026-01-01T00:00:00Z", "type": "UTILITIES", "balanceUsd": 1}
    with pytest.raises(Exception):  # noqa: B017
        structure({**body, "amountUsd": value}, Transaction)


def test_bool_and_text_fields_are_strict_but_numbers_stay_lenient() -> None:
    with pytest.raises(Exception):  # noqa: B017 - bool("false") would be True
        structure(_team(apiEnabled="false"), Team)
    with pytest.raises(Exception):  # noqa: B017
        structure(_team(name={"first": "x"}), Team)
    from pixop_async.models.billing import CreditsUsage

    usage = structure(
        {"createdAt": "2026-01-01T00:00:00Z", "type": "UTILITIES", "pixopCredits": 12.0},
        CreditsUsage,
    )
    assert usage.pixop_credits == 12 and isinstance(usage.pixop_credits, int)
    assert structure(_team(name=2026), Team).name == "2026"
