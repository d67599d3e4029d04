"""``/v2/stripe/*`` and ``/v2/aws-marketplace/*``: billing reads of API 2.x.

Each team gets a deterministic billing history on first use (seeded from its id): Stripe
teams three billing periods with transactions, AWS Marketplace teams credits usage and two
subscriptions (the first replaced by the second). Filters, paging and sorting run over that
data for real, and the pages echo the filters applied with the documented defaults: an open
end is now, an open start is the team's creation (Stripe transactions, billing-period dates)
or the first time the team was linked to an AWS Marketplace agreement (credits usage); a
start after the resolved end is a 400. The history never predates the team: for a team
younger than it, it is compressed into the team's lifetime. Asking a team for the other
billing type's data is a 409 (``TEAM_NOT_BILLED_THROUGH_AWS_MARKETPLACE`` for the AWS reads).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
import weakref
from decimal import Decimal
from typing import Any

import attrs
from aiohttp import web

from ..clock import iso
from ..context import caller, selected_team, state_of
from ..http import fail, invalid, not_found, ok, paginate, path_uuid, query_enum, query_uuid
from ..state import EmulatorState

MODES = ("INCLUDE", "EXCLUDE", "ONLY")
DAY = dt.timedelta(days=1)


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


def _money(value: float) -> float:
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
        created = _at(team)
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
        storage, download = _money(seed[index] / 50), _money(seed[index + 3] / 80)
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
        cost = _money(1 + seed[index + 6] / 20)
        for offset, kind, amount in (
            (0.1, "UTILITIES", 50.0),
            (2.0, "PROCESSING", -cost),
            (5.0, "UTILITIES", -storage),
            (6.0, "UTILITIES", -download),
        ):
            balance = _money(balance + amount)
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
        "amount": _money(cost * 10),
        "amountUnit": unit,
        "discountPercentage": 0,
        "unitPriceUsd": 0.1,
        "costUsd": _money(cost),
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


# -- query helpers --------------------------------------------------------------------------


def _parse_datetime(name: str, raw: str | None) -> dt.datetime | None:
    if not raw:
        return None
    try:
        value = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        invalid(name, raw, "must be an ISO 8601 date-time")
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def _parse_date(name: str, raw: str | None) -> dt.date | None:
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        invalid(name, raw, "must be a date (YYYY-MM-DD)")


def _at(item: dict[str, Any]) -> dt.datetime:
    return dt.datetime.fromisoformat(item["createdAt"].replace("Z", "+00:00"))


@attrs.frozen
class Window:
    """The filters of a transactions or credits-usage listing, as the page echoes them."""

    start: dt.datetime
    end: dt.datetime
    mode: str
    video_id: str | None

    def keeps(self, item: dict[str, Any]) -> bool:
        return (
            self.start <= _at(item) <= self.end
            and not (self.mode == "EXCLUDE" and item["type"] == "PROCESSING")
            and not (self.mode == "ONLY" and item["type"] != "PROCESSING")
            and self.video_id in (None, item.get("videoId"))
        )

    def echo(self, mode_name: str) -> dict[str, Any]:
        return {
            "filterByFromDateTime": iso(self.start),
            "filterByToDateTime": iso(self.end),
            mode_name: self.mode,
            "filterByVideoId": self.video_id,
        }


def _window(request: web.Request, mode_name: str, default_start: dt.datetime) -> Window:
    """The requested filters; an open start is ``default_start``, an open end is now, and a
    start after the resolved end (either of them given or defaulted) is a 400."""
    start = _parse_datetime("fromDateTime", request.query.get("fromDateTime"))
    end = _parse_datetime("toDateTime", request.query.get("toDateTime"))
    start = start or default_start
    end = end or state_of(request).clock.now()
    if start > end:
        fail(400, "INVALID_DATE_TIME_RANGE", "fromDateTime must not be after toDateTime")
    return Window(
        start=start,
        end=end,
        mode=query_enum(request, mode_name, MODES, "INCLUDE") or "INCLUDE",
        video_id=query_uuid(request, "videoId"),
    )


def _team_of_type(request: web.Request, billing_type: str) -> dict[str, Any]:
    team = selected_team(request)
    if (team.get("billingType") or "STRIPE") != billing_type:
        code = "TEAM_NOT_BILLED_THROUGH_AWS_MARKETPLACE"
        if billing_type != "AWS_MARKETPLACE":
            code = "CONFLICT"
        fail(409, code, f"Team {team['id']} is not billed through {billing_type}")
    return team


# -- Stripe ---------------------------------------------------------------------------------


async def list_periods(request: web.Request) -> web.Response:
    state = state_of(request)
    wanted = query_uuid(request, "teamId")
    start = _parse_date("fromDate", request.query.get("fromDate"))
    end = _parse_date("toDate", request.query.get("toDate")) or state.clock.now().date()
    if start is not None and start > end:
        fail(400, "INVALID_DATE_RANGE", "fromDate must not be after toDate")
    mode = query_enum(request, "endedMode", MODES, "INCLUDE")
    items: list[dict[str, Any]] = []
    for team in state.user_teams(caller(request)["id"]):
        if team.get("billingType") == "AWS_MARKETPLACE" or wanted not in (None, team["id"]):
            continue
        team_start = start or _at(team).date()  # fromDate defaults to the team's creation
        for period in billing_of(state, team).periods:
            day = _at(period).date()
            ended = period["endedAt"] is not None
            if team_start <= day <= end and not (
                (mode == "EXCLUDE" and ended) or (mode == "ONLY" and not ended)
            ):
                items.append(period)
    return ok(paginate(request, items))


def _period(request: web.Request, period_id: str) -> tuple[dict[str, Any], TeamBilling]:
    state = state_of(request)
    for team in state.user_teams(caller(request)["id"]):
        if team.get("billingType") == "AWS_MARKETPLACE":
            continue
        data = billing_of(state, team)
        for period in data.periods:
            if period["id"] == period_id:
                return period, data
    not_found("Billing period")


async def get_period(request: web.Request) -> web.Response:
    return ok(_period(request, path_uuid(request, "id"))[0])


def _totals(transactions: list[dict[str, Any]]) -> dict[str, Any]:
    def category(tx: dict[str, Any]) -> str:
        if tx["type"] == "PROCESSING":
            return "PROCESSING"
        if tx.get("product"):
            return str(tx["product"]["category"])
        return str((tx.get("accountAdjustment") or {}).get("category") or "OTHER")

    def sums(items: list[dict[str, Any]], name: str | None) -> dict[str, Any]:
        credit = sum(Decimal(str(t["amountUsd"])) for t in items if t["amountUsd"] > 0)
        debit = sum(-Decimal(str(t["amountUsd"])) for t in items if t["amountUsd"] < 0)
        return {
            "category": name,
            "totalCreditUsd": float(credit),
            "totalDebitUsd": float(debit),
            "netTotalUsd": float(Decimal(credit) - Decimal(debit)),
        }

    names = sorted({category(t) for t in transactions})
    return {
        "totalsForAllCategories": sums(transactions, None),
        "totalsByCategory": [sums([t for t in transactions if category(t) == n], n) for n in names],
    }


def _transactions_page(
    request: web.Request, period: dict[str, Any], data: TeamBilling
) -> web.Response:
    all_items = data.transactions[period["id"]]
    team = state_of(request).teams[period["teamId"]]
    window = _window(request, "processingTransactionsMode", _at(team))
    kept = [t for t in all_items if window.keeps(t)]
    page = paginate(request, kept)
    page["billingPeriod"] = period
    page["totals"] = _totals(kept)
    page.update(window.echo("filterProcessingTransactionsMode"))
    return ok(page)


async def period_transactions(request: web.Request) -> web.Response:
    period, data = _period(request, path_uuid(request, "id"))
    return _transactions_page(request, period, data)


async def latest_transactions(request: web.Request) -> web.Response:
    team = _team_of_type(request, "STRIPE")
    data = billing_of(state_of(request), team)
    latest = max(data.periods, key=lambda p: p["createdAt"])
    return _transactions_page(request, latest, data)


async def financial_details(request: web.Request) -> web.Response:
    team = _team_of_type(request, "STRIPE")
    data = billing_of(state_of(request), team)
    everything = [t for items in data.transactions.values() for t in items]
    spend = -sum(t["amountUsd"] for t in everything if t["type"] == "PROCESSING")
    last = max(everything, key=lambda t: t["createdAt"])
    return ok(
        {
            "processingCreditsBalanceUsd": last["balanceUsd"],
            "processingLifetimeSpendUsd": _money(spend),
            "processingBaseVolumeDiscountGp": 100,
            "processingBaseVolumeDiscountPercentage": 3.3,
            "utilitiesBalanceUsd": _money(-sum(p["storageCostUsd"] for p in data.periods)),
        }
    )


# -- AWS Marketplace --------------------------------------------------------------------


def _credit_totals(items: list[dict[str, Any]]) -> dict[str, Any]:
    def category(usage: dict[str, Any]) -> str:
        if usage.get("product"):
            return str(usage["product"]["category"])
        return "PROCESSING" if usage["type"] == "PROCESSING" else "OTHER"

    names = sorted({category(u) for u in items})
    return {
        "totalsForAllCategories": {
            "category": None,
            "totalPixopCredits": sum(u["pixopCredits"] for u in items),
        },
        "totalsByCategory": [
            {
                "category": name,
                "totalPixopCredits": sum(u["pixopCredits"] for u in items if category(u) == name),
            }
            for name in names
        ],
    }


async def credits_usage(request: web.Request) -> web.Response:
    team = _team_of_type(request, "AWS_MARKETPLACE")
    data = billing_of(state_of(request), team)
    items = data.credits_usage
    linked = min(
        (_at({"createdAt": s["setupCompletedAt"]}) for s in data.subscriptions),
        default=_at(team),
    )
    window = _window(request, "processingCreditsUsageMode", linked)
    kept = [u for u in items if window.keeps(u)]
    page = paginate(request, kept)
    page["teamId"] = team["id"]
    page["totals"] = _credit_totals(kept)
    page.update(window.echo("filterProcessingCreditsUsageMode"))
    return ok(page)


async def list_subscriptions(request: web.Request) -> web.Response:
    state = state_of(request)
    wanted = query_uuid(request, "teamId")
    items = [
        subscription
        for team in state.user_teams(caller(request)["id"])
        if team.get("billingType") == "AWS_MARKETPLACE" and wanted in (None, team["id"])
        for subscription in billing_of(state, team).subscriptions
    ]
    return ok(paginate(request, items))


async def current_subscription(request: web.Request) -> web.Response:
    team = _team_of_type(request, "AWS_MARKETPLACE")
    active = [
        s
        for s in billing_of(state_of(request), team).subscriptions
        if s["status"] in ("SUBSCRIBED", "UNSUBSCRIBE_PENDING")
    ]
    if not active:
        not_found("Active subscription")
    return ok(active[-1])


async def get_subscription(request: web.Request) -> web.Response:
    state = state_of(request)
    agreement = request.match_info["agreementId"]
    for team in state.user_teams(caller(request)["id"]):
        if team.get("billingType") != "AWS_MARKETPLACE":
            continue
        for subscription in billing_of(state, team).subscriptions:
            if subscription["agreementId"] == agreement:
                return ok(subscription)
    not_found("Subscription")


def setup(app: web.Application) -> None:
    r = app.router
    r.add_get("/api/v2/stripe/billing-periods", list_periods)
    r.add_get("/api/v2/stripe/billing-periods/latest/transactions", latest_transactions)
    r.add_get("/api/v2/stripe/billing-periods/{id}", get_period)
    r.add_get("/api/v2/stripe/billing-periods/{id}/transactions", period_transactions)
    r.add_get("/api/v2/stripe/financial-details", financial_details)
    r.add_get("/api/v2/aws-marketplace/credits-usage", credits_usage)
    r.add_get("/api/v2/aws-marketplace/subscriptions", list_subscriptions)
    r.add_get("/api/v2/aws-marketplace/subscriptions/current", current_subscription)
    r.add_get("/api/v2/aws-marketplace/subscriptions/{agreementId}", get_subscription)
