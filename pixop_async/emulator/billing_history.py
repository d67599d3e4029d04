"""The deterministic billing history the emulator gives each team on first use.

Seeded from the team's id: Stripe teams get three billing periods with transactions, AWS
Marketplace teams credits usage and two subscriptions (the first replaced by the second).
The history spans a fixed number of days before now, compressed into the team's lifetime
when the team is younger (it never predates the team).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
import weakref
from decimal import Decimal
from typing import Any

import attrs

from .clock import iso
from .state import EmulatorState

DAY = dt.timedelta(days=1)


def created_at(item: dict[str, Any]) -> dt.datetime:
    """An entity's ``createdAt`` as an aware datetime."""
    return dt.datetime.fromisoformat(item["createdAt"].replace("Z", "+00:00"))


@attrs.define
class TeamBilling:
    periods: list[dict[str, Any]] = attrs.Factory(list)
    #: period id -> transactions (oldest first)
    transactions: dict[str, list[dict[str, Any]]] = attrs.Factory(dict)
    credits_usage: list[dict[str, Any]] = attrs.Factory(list)
    subscriptions: list[dict[str, Any]] = attrs.Factory(list)


_BILLING: weakref.WeakKeyDictionary[EmulatorState, dict[str, TeamBilling]] = (
    weakref.WeakKeyDictionary()
)


def money(value: float) -> float:
    return float(Decimal(str(value)).quantize(Decimal("0.001")))


def _seed_numbers(team_id: str) -> list[int]:
    return list(hashlib.sha256(team_id.encode()).digest())


@attrs.frozen
class Timeline:
    """Maps "``days`` before now" of a history spanning ``span_days`` onto the team's life:
    unchanged for a team older than the span, compressed for a younger one."""

    now: dt.datetime
    origin: dt.datetime
    span_days: int

    @classmethod
    def of(cls, team: dict[str, Any], now: dt.datetime, span_days: int) -> Timeline:
        created = created_at(team)
        return cls(now, max(created, now - span_days * DAY), span_days)

    def ago(self, days: float) -> dt.datetime:
        return self.now - (self.now - self.origin) * (days / self.span_days)


def _stripe_history(team: dict[str, Any], now: dt.datetime) -> TeamBilling:
    data = TeamBilling()
    seed = _seed_numbers(team["id"])
    balance = 100.0
    line = Timeline.of(team, now, 70)
    bounds = [
        (line.ago(70), line.ago(40)),
        (line.ago(40), line.ago(10)),
        (line.ago(10), None),
    ]
    for index, (start, end) in enumerate(bounds):
        storage, download = money(seed[index] / 50), money(seed[index + 3] / 80)
        period = {
            "id": str(uuid.UUID(bytes=bytes(seed[index : index + 16]), version=4)),
            "createdAt": iso(start),
            "updatedAt": iso(end or now),
            "teamId": team["id"],
            "endedAt": iso(end) if end else None,
            "storageCostUsd": storage,
            "downloadCostUsd": download,
        }
        data.periods.append(period)
        items: list[dict[str, Any]] = []
        cost = money(1 + seed[index + 6] / 20)
        for offset, kind, amount in (
            (0.1, "UTILITIES", 50.0),
            (2.0, "PROCESSING", -cost),
            (5.0, "UTILITIES", -storage),
            (6.0, "UTILITIES", -download),
        ):
            balance = money(balance + amount)
            at = start + (line.ago(0) - line.ago(1)) * offset
            items.append(_transaction(at, kind, amount, balance, index, seed))
        data.transactions[period["id"]] = items
    return data


def _transaction(
    at: dt.datetime, kind: str, amount: float, balance: float, index: int, seed: list[int]
) -> dict[str, Any]:
    tx: dict[str, Any] = {
        "createdAt": iso(at),
        "type": kind,
        "amountUsd": amount,
        "balanceUsd": balance,
        "videoId": None,
        "accountAdjustment": None,
    }
    if kind == "PROCESSING":
        video_id = str(uuid.UUID(bytes=bytes(seed[index + 10 : index + 26]), version=4))
        tx["videoId"] = video_id
        tx["details"] = {
            "sourceVideoId": video_id,
            "discountPercentage": 0,
            "products": [_product("Pixop Super Resolution", "FILTER", -amount, "GP")],
        }
    elif amount > 0:
        tx["accountAdjustment"] = {
            "type": "CREDITS_BOUGHT",
            "category": "PROCESSING",
            "reason": "Credits bought",
        }
    else:
        category = "STORAGE" if index % 2 == 0 else "DOWNLOAD_S3"
        tx["product"] = _product(
            "Storage" if category == "STORAGE" else "S3 download", category, -amount, "GB"
        )
    return tx


def _product(name: str, category: str, cost: float, unit: str) -> dict[str, Any]:
    return {
        "productName": name,
        "category": category,
        "amount": money(cost * 10),
        "amountUnit": unit,
        "discountPercentage": 0,
        "unitPriceUsd": 0.1,
        "costUsd": money(cost),
    }


def _credits_product(name: str, category: str, amount: float, unit_price: int) -> dict[str, Any]:
    return {
        "productName": name,
        "category": category,
        "amount": amount,
        "amountUnit": "GP" if category in ("FILTER", "ENCODER") else "GB",
        "unitPricePixopCredits": unit_price,
        "costPixopCredits": max(1, round(amount * unit_price)),
    }


def _aws_history(team: dict[str, Any], now: dt.datetime) -> TeamBilling:
    data = TeamBilling()
    seed = _seed_numbers(team["id"])
    line = Timeline.of(team, now, 400)
    for i in range(6):
        video_id = str(uuid.UUID(bytes=bytes(seed[i : i + 16]), version=4))
        usage: dict[str, Any] = {
            "createdAt": iso(line.ago(30 - 5 * i)),
            "type": "PROCESSING" if i % 2 == 0 else "UTILITIES",
            "videoId": video_id,
        }
        if i % 2 == 0:
            product = _credits_product("Pixop Super Resolution", "FILTER", 1 + seed[i] % 9, 90)
            usage["details"] = {"sourceVideoId": video_id, "products": [product]}
        else:
            product = _credits_product("Storage", "STORAGE", 1 + seed[i] % 40, 3)
            usage["product"] = product
        usage["pixopCredits"] = product["costPixopCredits"]
        data.credits_usage.append(usage)
    account = f"{int.from_bytes(bytes(seed[:5]), 'big') % 10**12:012d}"
    ids = [f"agmt-{team['id'][:8]}{i}" for i in range(2)]
    for i, (status, start, end) in enumerate(
        (
            ("AGREEMENT_REPLACED", line.ago(400), line.ago(35)),
            ("SUBSCRIBED", line.ago(35), None),
        )
    ):
        data.subscriptions.append(
            {
                "agreementId": ids[i],
                "createdAt": iso(start),
                "updatedAt": iso(end or start + DAY),
                "teamId": team["id"],
                "status": status,
                "licenseArn": f"arn:aws:license-manager::{account}:license:l-{ids[i][5:]}",
                "offerId": "offer-pixopcredits0001",
                "productId": "prod-pixopvideo0001",
                "productName": "Pixop Video Enhancement",
                "buyerAwsAccountId": account,
                "sellerAwsAccountId": "000000000001",
                "agreementIntent": "NEW" if i == 0 else "REPLACE",
                "agreementStatus": "REPLACED" if i == 0 else "ACTIVE",
                "acceptanceTime": iso(start),
                "startTime": iso(start),
                "setupCompletedAt": iso(min(start + dt.timedelta(minutes=5), line.ago(31))),
                "cancellationRequestedAt": None,
                "licenseDeprovisionedAt": iso(end) if end else None,
                "effectiveFromHour": iso(start.replace(minute=0, second=0, microsecond=0)),
                "replacesAgreementId": ids[0] if i == 1 else None,
                "replacedByAgreementId": ids[1] if i == 0 else None,
                "reassignedFromAgreementId": None,
                "reassignedToAgreementId": None,
                "reassignedAt": None,
            }
        )
    return data


def billing_of(state: EmulatorState, team: dict[str, Any]) -> TeamBilling:
    teams = _BILLING.setdefault(state, {})
    if team["id"] not in teams:
        now = state.clock.now()
        teams[team["id"]] = (
            _aws_history(team, now)
            if team.get("billingType") == "AWS_MARKETPLACE"
            else _stripe_history(team, now)
        )
    return teams[team["id"]]
