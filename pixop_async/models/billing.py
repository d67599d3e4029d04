"""Billing read models of API 2.1.0: Stripe billing periods and transactions, AWS Marketplace
credits usage and subscriptions.

Every field below is one of the 2.1.0 schema (Pixop's Java SDK at commit 295b5d0). Money in
USD is :class:`decimal.Decimal`; Pixop credits are whole numbers (``Long`` in the API), so
``int``. Two schemas are polymorphic on ``type`` (``PROCESSING`` / ``UTILITIES``): the
Stripe ``Transaction`` and the AWS ``CreditsUsage``. Each is one class here carrying both
variants' optional parts (``details`` for processing, ``product`` for utilities), so a type
added later by the server still decodes.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import attrs

from ..ids import BillingPeriodId, TeamId, VideoId
from .common import Page
from .enums import FilterMode as FilterMode  # re-exported: the billing filters' mode
from .enums import OpenEnum


class Category(OpenEnum):
    ENCODER = "ENCODER"
    FILTER = "FILTER"
    PROCESSING = "PROCESSING"
    STORAGE = "STORAGE"
    DOWNLOAD_S3 = "DOWNLOAD_S3"
    DOWNLOAD_CLOUDFRONT = "DOWNLOAD_CLOUDFRONT"
    OTHER = "OTHER"


class AmountUnit(OpenEnum):
    """Unit of a product's ``amount``: gigabytes or gigapixels."""

    GB = "GB"
    GP = "GP"


class TransactionType(OpenEnum):
    PROCESSING = "PROCESSING"
    UTILITIES = "UTILITIES"


#: ``CreditsUsage.type`` has the same two values as ``Transaction.type``.
CreditsUsageType = TransactionType


class AccountAdjustmentType(OpenEnum):
    BILLING_PERIOD_STARTED = "BILLING_PERIOD_STARTED"
    CREDITS_BOUGHT = "CREDITS_BOUGHT"
    UTILITIES_INVOICE_PAID = "UTILITIES_INVOICE_PAID"
    MANUAL_ADJUSTMENT = "MANUAL_ADJUSTMENT"
    PROCESSED_VIDEO_INGESTION_FAILED = "PROCESSED_VIDEO_INGESTION_FAILED"
    PROCESSED_VIDEO_COMPUTE_SAVING = "PROCESSED_VIDEO_COMPUTE_SAVING"
    OTHER = "OTHER"


class AwsMarketplaceSubscriptionStatus(OpenEnum):
    SUBSCRIBED = "SUBSCRIBED"
    UNSUBSCRIBE_PENDING = "UNSUBSCRIBE_PENDING"
    UNSUBSCRIBED = "UNSUBSCRIBED"
    AGREEMENT_REPLACED = "AGREEMENT_REPLACED"
    REASSIGNED = "REASSIGNED"


# ----------------------------------------------------------------------------- Stripe


@attrs.frozen
class BillingPeriod:
    id: BillingPeriodId
    created_at: dt.datetime
    updated_at: dt.datetime
    team_id: TeamId
    ended_at: dt.datetime | None = None
    storage_cost_usd: Decimal | None = None
    download_cost_usd: Decimal | None = None


@attrs.frozen
class FinancialDetails:
    """Balances and spending of a Stripe-billed team."""

    processing_credits_balance_usd: Decimal
    processing_lifetime_spend_usd: Decimal
    processing_base_volume_discount_gp: Decimal
    processing_base_volume_discount_percentage: Decimal
    utilities_balance_usd: Decimal


@attrs.frozen
class ProductUsd:
    """One priced product of a Stripe transaction."""

    product_name: str
    category: Category
    amount: Decimal
    amount_unit: AmountUnit
    discount_percentage: Decimal
    unit_price_usd: Decimal
    cost_usd: Decimal


@attrs.frozen
class ProcessingTransactionDetails:
    source_video_id: VideoId | None = None
    products: list[ProductUsd] | None = None
    discount_percentage: Decimal | None = None


@attrs.frozen
class AccountAdjustment:
    type: AccountAdjustmentType | None = None
    category: Category | None = None
    reason: str | None = None


@attrs.frozen
class Transaction:
    """One transaction: ``details`` is set for PROCESSING, ``product`` for UTILITIES."""

    created_at: dt.datetime
    amount_usd: Decimal
    balance_usd: Decimal
    type: TransactionType | None = None
    video_id: VideoId | None = None
    account_adjustment: AccountAdjustment | None = None
    details: ProcessingTransactionDetails | None = None
    product: ProductUsd | None = None


@attrs.frozen
class TransactionTotalsByCategory:
    category: Category | None = None
    total_credit_usd: Decimal | None = None
    total_debit_usd: Decimal | None = None
    net_total_usd: Decimal | None = None


@attrs.frozen
class TransactionTotals:
    totals_for_all_categories: TransactionTotalsByCategory | None = None
    totals_by_category: list[TransactionTotalsByCategory] | None = None


@attrs.frozen
class TransactionsPage(Page[Transaction]):
    """A page of transactions with their billing period, its totals and the filters the
    server applied (echoed back, defaults filled in)."""

    # Re-declared with its concrete type so the class needs no type parameter to resolve.
    items: list[Transaction]
    billing_period: BillingPeriod
    totals: TransactionTotals
    filter_by_from_date_time: dt.datetime
    filter_by_to_date_time: dt.datetime
    filter_processing_transactions_mode: FilterMode
    filter_by_video_id: VideoId | None = None


# ----------------------------------------------------------------------------- AWS Marketplace


@attrs.frozen
class ProductPixopCredits:
    """One product priced in Pixop credits."""

    product_name: str
    category: Category
    amount: Decimal
    amount_unit: AmountUnit
    unit_price_pixop_credits: int
    cost_pixop_credits: int


@attrs.frozen
class ProcessingCreditsUsageDetails:
    source_video_id: VideoId | None = None
    products: list[ProductPixopCredits] | None = None


@attrs.frozen
class CreditsUsage:
    """Pixop credits used by one operation of an AWS Marketplace-billed team: ``details``
    is set for PROCESSING, ``product`` for UTILITIES (storage, downloads)."""

    created_at: dt.datetime
    pixop_credits: int
    type: CreditsUsageType | None = None
    video_id: VideoId | None = None
    details: ProcessingCreditsUsageDetails | None = None
    product: ProductPixopCredits | None = None


@attrs.frozen
class CreditsUsageTotalsByCategory:
    category: Category | None = None
    total_pixop_credits: int | None = None


@attrs.frozen
class CreditsUsageTotals:
    totals_for_all_categories: CreditsUsageTotalsByCategory | None = None
    totals_by_category: list[CreditsUsageTotalsByCategory] | None = None


@attrs.frozen
class CreditsUsagePage(Page[CreditsUsage]):
    """A page of credits usage with the team, its totals and the filters applied."""

    items: list[CreditsUsage]
    team_id: TeamId
    totals: CreditsUsageTotals
    filter_by_from_date_time: dt.datetime
    filter_by_to_date_time: dt.datetime
    filter_processing_credits_usage_mode: FilterMode
    filter_by_video_id: VideoId | None = None


@attrs.frozen
class AwsMarketplaceSubscription:
    """An AWS Marketplace agreement that bills a team's use of Pixop.

    The ``replaces…``/``replaced_by…``/``reassigned…`` ids link agreements that replaced one
    another or moved between teams.
    """

    agreement_id: str
    created_at: dt.datetime
    updated_at: dt.datetime
    team_id: TeamId
    status: AwsMarketplaceSubscriptionStatus
    license_arn: str
    offer_id: str
    product_id: str
    product_name: str
    buyer_aws_account_id: str
    seller_aws_account_id: str
    acceptance_time: dt.datetime
    start_time: dt.datetime
    setup_completed_at: dt.datetime
    effective_from_hour: dt.datetime
    agreement_intent: str | None = None
    agreement_status: str | None = None
    cancellation_requested_at: dt.datetime | None = None
    license_deprovisioned_at: dt.datetime | None = None
    replaces_agreement_id: str | None = None
    replaced_by_agreement_id: str | None = None
    reassigned_from_agreement_id: str | None = None
    reassigned_to_agreement_id: str | None = None
    reassigned_at: dt.datetime | None = None
