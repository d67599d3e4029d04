"""Billing reads of API 2.x against the emulator: Stripe and AWS Marketplace."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from pixop_async import Pixop
from pixop_async.emulator import EmulatorServer
from pixop_async.errors import (
    BadRequestError,
    ConflictError,
    InvalidRequestError,
    NotFoundError,
)
from pixop_async.models.billing import (
    AwsMarketplaceSubscriptionStatus,
    Category,
    FilterMode,
    TransactionType,
)


def _teams(emu: EmulatorServer) -> tuple[dict, dict]:
    teams = emu.state.user_teams(emu.state.seed_user_id)
    stripe = next(t for t in teams if t["billingType"] == "STRIPE")
    aws = next(t for t in teams if t["billingType"] == "AWS_MARKETPLACE")
    return stripe, aws


async def test_stripe_billing_periods_and_filters(
    pixop_client: Pixop, pixop_emulator: EmulatorServer
) -> None:
    stripe = pixop_client.billing.stripe
    periods = await stripe.list_billing_periods(page_size=100)
    assert periods.total_elements == 3
    ended = await stripe.list_billing_periods(ended_mode=FilterMode.ONLY)
    assert ended.total_elements == 2 and all(p.ended_at for p in ended.items)
    open_ = await stripe.list_billing_periods(ended_mode="EXCLUDE")
    assert [p.ended_at for p in open_.items] == [None]
    today = pixop_emulator.state.clock.now().date()
    recent = await stripe.list_billing_periods(from_date=today - dt.timedelta(days=20))
    assert [p.id for p in recent.items] == [p.id for p in open_.items]
    older = await stripe.list_billing_periods(to_date=today - dt.timedelta(days=50))
    assert older.total_elements == 1
    newest_first = await stripe.list_billing_periods(sort_direction="DESC")
    assert newest_first.items[0].ended_at is None
    one = await stripe.get_billing_period(periods.items[0].id)
    assert one == periods.items[0]
    assert isinstance(one.storage_cost_usd, Decimal)
    with pytest.raises(NotFoundError):
        await stripe.get_billing_period("00000000-0000-4000-8000-000000000000")


async def test_stripe_transactions_totals_and_filters(pixop_client: Pixop) -> None:
    stripe = pixop_client.billing.stripe
    periods = (await stripe.list_billing_periods()).items
    page = await stripe.transactions(periods[0].id, page_size=100)
    assert page.billing_period.id == periods[0].id
    assert page.total_elements == 4
    net = sum((t.amount_usd for t in page.items), Decimal(0))
    assert page.totals.totals_for_all_categories.net_total_usd == net
    # the filters applied come back: an open window spans the team's creation (documented
    # default of fromDateTime) to now
    assert page.filter_processing_transactions_mode == FilterMode.INCLUDE
    assert page.filter_by_video_id is None
    team = await pixop_client.teams.get(page.billing_period.team_id)
    assert page.filter_by_from_date_time == team.created_at
    assert page.filter_by_from_date_time < page.items[0].created_at
    assert page.filter_by_to_date_time >= page.items[-1].created_at
    processing = await stripe.transactions(periods[0].id, processing_transactions_mode="ONLY")
    assert [t.type for t in processing.items] == [TransactionType.PROCESSING]
    assert processing.items[0].details is not None and processing.items[0].details.products
    video = processing.items[0].video_id
    by_video = await stripe.transactions(periods[0].id, video_id=video)
    assert [t.video_id for t in by_video.items] == [video]
    assert by_video.filter_by_video_id == video
    without = await stripe.transactions(periods[0].id, processing_transactions_mode="EXCLUDE")
    assert without.total_elements == 3
    start = page.items[1].created_at
    window = await stripe.transactions(periods[0].id, from_date_time=start)
    assert window.total_elements == 3
    assert [t async for t in stripe.transactions(periods[0].id, page_size=1)] == page.items
    latest = await stripe.latest_transactions()
    assert latest.billing_period.ended_at is None
    details = await stripe.financial_details()
    assert details.processing_credits_balance_usd == latest.items[-1].balance_usd
    assert details.processing_lifetime_spend_usd > 0


async def test_aws_marketplace_reads(pixop_client: Pixop, pixop_emulator: EmulatorServer) -> None:
    _, aws_team = _teams(pixop_emulator)
    aws = pixop_client.billing.aws_marketplace
    usage = await aws.credits_usage(select_team_id=aws_team["id"], page_size=100)
    assert usage.total_elements == 6 and str(usage.team_id) == aws_team["id"]
    assert all(isinstance(u.pixop_credits, int) and u.pixop_credits > 0 for u in usage.items)
    assert usage.totals.totals_for_all_categories.total_pixop_credits == sum(
        u.pixop_credits for u in usage.items
    )
    for item in usage.items:
        if item.type == TransactionType.PROCESSING:
            assert item.details is not None and item.details.products
            assert item.pixop_credits == sum(p.cost_pixop_credits for p in item.details.products)
        else:
            assert item.product is not None and item.product.category == Category.STORAGE
            assert item.pixop_credits == item.product.cost_pixop_credits
    only = await aws.credits_usage(
        select_team_id=aws_team["id"], processing_credits_usage_mode="ONLY"
    )
    assert {u.type for u in only.items} == {TransactionType.PROCESSING}
    assert only.filter_processing_credits_usage_mode == FilterMode.ONLY
    assert only.totals.totals_for_all_categories.total_pixop_credits == sum(
        u.pixop_credits for u in only.items
    )
    subscriptions = await aws.list_subscriptions(team_id=aws_team["id"])
    assert {s.status for s in subscriptions.items} == {
        AwsMarketplaceSubscriptionStatus.SUBSCRIBED,
        AwsMarketplaceSubscriptionStatus.AGREEMENT_REPLACED,
    }
    old, new = sorted(subscriptions.items, key=lambda s: s.created_at)
    assert old.replaced_by_agreement_id == new.agreement_id == old.replaced_by_agreement_id
    assert new.replaces_agreement_id == old.agreement_id
    newest_first = await aws.list_subscriptions(sort_direction="DESC", sort_by="updatedAt")
    assert newest_first.items[0].agreement_id == new.agreement_id
    current = await aws.current_subscription(select_team_id=aws_team["id"])
    assert current.status == AwsMarketplaceSubscriptionStatus.SUBSCRIBED
    assert await aws.get_subscription(current.agreement_id) == current
    with pytest.raises(NotFoundError):
        await aws.get_subscription("agmt-unknown")


async def test_billing_type_mismatch_is_a_conflict(
    pixop_client: Pixop, pixop_emulator: EmulatorServer
) -> None:
    _, aws_team = _teams(pixop_emulator)
    with pytest.raises(ConflictError) as info:
        await pixop_client.billing.aws_marketplace.credits_usage()  # default team: Stripe
    assert info.value.error_code == "TEAM_NOT_BILLED_THROUGH_AWS_MARKETPLACE"
    with pytest.raises(ConflictError):
        await pixop_client.billing.stripe.financial_details(select_team_id=aws_team["id"])
    periods = await pixop_client.billing.stripe.list_billing_periods(team_id=aws_team["id"])
    assert periods.total_elements == 0


async def test_documented_window_defaults_and_bad_ranges(
    pixop_client: Pixop, pixop_emulator: EmulatorServer
) -> None:
    """fromDateTime defaults to the team's creation (Stripe) or its first AWS Marketplace
    link (credits usage), toDateTime to now; a start after the resolved end is a 400, also
    when only one bound is given; the same for billing-period dates."""
    _, aws_team = _teams(pixop_emulator)
    stripe, aws = pixop_client.billing.stripe, pixop_client.billing.aws_marketplace
    now = pixop_emulator.state.clock.now()
    future = now + dt.timedelta(days=3)
    with pytest.raises(BadRequestError):
        await stripe.latest_transactions(from_date_time=future)
    with pytest.raises(BadRequestError):
        await aws.credits_usage(select_team_id=aws_team["id"], from_date_time=future)
    long_ago = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)
    with pytest.raises(BadRequestError):  # before the team existed: before the resolved start
        await stripe.latest_transactions(to_date_time=long_ago)
    with pytest.raises(BadRequestError):
        await stripe.list_billing_periods(from_date=future.date())
    usage = await aws.credits_usage(select_team_id=aws_team["id"], page_size=100)
    subscriptions = (await aws.list_subscriptions(team_id=aws_team["id"])).items
    assert usage.filter_by_from_date_time == min(s.setup_completed_at for s in subscriptions)
    assert usage.filter_by_to_date_time >= max(u.created_at for u in usage.items)


async def test_a_young_team_history_stays_within_its_lifetime(
    pixop_client: Pixop, pixop_emulator: EmulatorServer
) -> None:
    state = pixop_emulator.state
    young = state.add_team(state.seed_user_id, "Young Team")
    created = dt.datetime.fromisoformat(young["createdAt"].replace("Z", "+00:00"))
    periods = await pixop_client.billing.stripe.list_billing_periods(team_id=young["id"])
    assert periods.total_elements == 3  # fromDate defaults to the team's creation date
    assert all(p.created_at >= created for p in periods.items)
    page = await pixop_client.billing.stripe.latest_transactions(select_team_id=young["id"])
    assert page.filter_by_from_date_time == created
    assert all(created <= t.created_at <= page.filter_by_to_date_time for t in page.items)


async def test_naive_and_aware_bounds_compare_before_sending(pixop_client: Pixop) -> None:
    aware = dt.datetime(2026, 1, 2, tzinfo=dt.timezone.utc)
    with pytest.raises(InvalidRequestError, match="to_date_time: must not be before"):
        pixop_client.billing.stripe.latest_transactions(
            from_date_time=dt.datetime(2026, 1, 3),
            to_date_time=aware,  # naive = UTC
        )
    pixop_client.billing.aws_marketplace.credits_usage(
        from_date_time=dt.datetime(2026, 1, 1), to_date_time=aware
    )  # a valid mixed window builds without error (the paginator is lazy)
