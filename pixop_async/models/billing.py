"""Billing read models of API 2.x: Stripe billing periods and transactions, AWS Marketplace
credits usage and subscriptions.

Money is :class:`decimal.Decimal` (the API sends amounts with up to three decimals). The
API's polymorphic ``Transaction`` (``PROCESSING`` with ``details``, ``UTILITIES`` with a
``product``) is one class here with both optional parts, so a new transaction type still
parses. The AWS Marketplace shapes are not in the extracted reference; the fields below are
the SDK's reading of them and every one except the identifiers is optional.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import attrs

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
    USD = "USD"
    GB = "GB"
    GP = "GP"


class TransactionType(OpenEnum):
    PROCESSING = "PROCESSING"
    UTILITIES = "UTILITIES"


class AccountAdjustmentType(OpenEnum):
    BILLING_PERIOD_STARTED = "BILLING_PERIOD_STARTED"
    CREDITS_BOUGHT = "CREDITS_BOUGHT"
    UTILITIES_INVOICE_PAID = "UTILITIES_INVOICE_PAID"
    MANUAL_ADJUSTMENT = "MANUAL_ADJUSTMENT"
    PROCESSED_VIDEO_INGESTION_FAILED = "PROCESSED_VIDEO_INGESTION_FAILED"
    PROCESSED_VIDEO_COMPUTE_SAVING = "PROCESSED_VIDEO_COMPUTE_SAVING"
    OTHER = "OTHER"


class SubscriptionStatus(OpenEnum):
    ACTIVE = "ACTIVE"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"


@attrs.frozen
class BillingPeriod:
    id: uuid.UUID
    created_at: dt.datetime
    updated_at: dt.datetime
    team_id: uuid.UUID
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
class Product:
    product_name: str
    category: Category
    amount: Decimal
    amount_unit: AmountUnit
    discount_percentage: Decimal
    unit_price_usd: Decimal
    cost_usd: Decimal


@attrs.frozen
class ProcessingTransactionDetails:
    source_video_id: uuid.UUID | None = None
    products: list[Product] | None = None
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
    type: TransactionType
    amount_usd: Decimal
    balance_usd: Decimal
    video_id: uuid.UUID | None = None
    account_adjustment: AccountAdjustment | None = None
    details: ProcessingTransactionDetails | None = None
    product: Product | None = None


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
    """A page of transactions with the billing period they belong to and its totals."""

    # Re-declared with its concrete type so the class needs no type parameter to resolve.
    items: list[Transaction]
    billing_period: BillingPeriod | None = None
    totals: TransactionTotals | None = None


@attrs.frozen
class CreditsUsage:
    """Pixop credits used by one operation of an AWS Marketplace-billed team."""

    created_at: dt.datetime
    type: TransactionType
    credits: Decimal
    credits_balance: Decimal | None = None
    video_id: uuid.UUID | None = None
    description: str | None = None


@attrs.frozen
class AwsMarketplaceSubscription:
    """An AWS Marketplace agreement that gives a team Pixop credits."""

    agreement_id: str
    team_id: uuid.UUID
    status: SubscriptionStatus
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    product_code: str | None = None
    offer_name: str | None = None
    credits_per_period: Decimal | None = None
    starts_at: dt.datetime | None = None
    ends_at: dt.datetime | None = None
