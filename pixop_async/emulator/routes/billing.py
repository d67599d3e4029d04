"""``/v2/stripe/*`` and ``/v2/aws-marketplace/*``: billing reads of API 2.x.

Each team has a deterministic billing history (``emulator/billing_history.py``). Filters,
paging and sorting run over it for real, and the pages echo the filters applied with the
documented defaults: an open end is now, an open start is the team's creation (Stripe
transactions, billing-period dates) or the first time the team was linked to an AWS
Marketplace agreement (credits usage); a start after the resolved end is a 400. Asking a
team for the other billing type's data is a 409 (``TEAM_NOT_BILLED_THROUGH_AWS_MARKETPLACE``
for the AWS reads).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import attrs
from aiohttp import web

from ..billing_history import TeamBilling, billing_of, created_at, money
from ..clock import iso
from ..context import caller, selected_team, state_of
from ..http import fail, invalid, not_found, ok, paginate, path_uuid, query_enum, query_uuid

MODES = ("INCLUDE", "EXCLUDE", "ONLY")


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


@attrs.frozen
class Window:
    """The filters of a transactions or credits-usage listing, as the page echoes them."""

    start: dt.datetime
    end: dt.datetime
    mode: str
    video_id: str | None

    def keeps(self, item: dict[str, Any]) -> bool:
        return (
            self.start <= created_at(item) <= self.end
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
        team_start = start or created_at(team).date()  # fromDate defaults to the team's creation
        for period in billing_of(state, team).periods:
            day = created_at(period).date()
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
    window = _window(request, "processingTransactionsMode", created_at(team))
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
            "processingLifetimeSpendUsd": money(spend),
            "processingBaseVolumeDiscountGp": 100,
            "processingBaseVolumeDiscountPercentage": 3.3,
            "utilitiesBalanceUsd": money(-sum(p["storageCostUsd"] for p in data.periods)),
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
        (created_at({"createdAt": s["setupCompletedAt"]}) for s in data.subscriptions),
        default=created_at(team),
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
