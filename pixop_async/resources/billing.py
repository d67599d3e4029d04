"""Billing (API 2.x): ``px.billing.stripe`` and ``px.billing.aws_marketplace``.

A team is billed one way or the other (``Team.billing_type``); asking a Stripe team for AWS
Marketplace data, or the reverse, is refused by the API.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from .. import validation as v
from ..errors import InvalidRequestError
from ..ids import BillingPeriodId, TeamId, VideoId
from ..models.billing import (
    AwsMarketplaceSubscription,
    BillingPeriod,
    CreditsUsage,
    CreditsUsagePage,
    FilterMode,
    FinancialDetails,
    Transaction,
    TransactionsPage,
)
from ..models.common import Page
from ..models.converter import format_datetime
from ..models.enums import SortBy, SortDirection
from ..pagination import AsyncPaginator, EnvelopePaginator
from ._base import Resource, decode, paging_params, team_paging_params

if TYPE_CHECKING:
    from ..client import Pixop

P = TypeVar("P", bound=Page[Any])

AGREEMENT_ID_MAX = 255


def _date(field: str, value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise InvalidRequestError(field, "must be a datetime.date (not a datetime)")
    return value.isoformat()


def _datetime(field: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, dt.datetime):
        raise InvalidRequestError(field, "must be a datetime.datetime")
    return format_datetime(value)


def _mode(field: str, value: Any) -> str | None:
    return None if value is None else v.one_of(field, value, FilterMode).value


def _utc(value: Any) -> Any:
    """A naive datetime read as UTC (as it is sent), so naive and aware bounds compare."""
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        return value.replace(tzinfo=dt.timezone.utc)
    return value


def _range(
    names: tuple[str, str], values: tuple[Any, Any], fmt: Any, fields: tuple[str, str]
) -> dict[str, Any]:
    start, end = fmt(fields[0], values[0]), fmt(fields[1], values[1])
    if values[0] is not None and values[1] is not None and _utc(values[0]) > _utc(values[1]):
        raise InvalidRequestError(fields[1], f"must not be before {fields[0]}")
    return {names[0]: start, names[1]: end}


def _usage_filters(
    from_date_time: Any,
    to_date_time: Any,
    mode_param: str,
    mode_field: str,
    mode: Any,
    video_id: VideoId | str | None,
) -> dict[str, Any]:
    """The time window, processing filter and video of the transaction and credits-usage
    listings (``mode_param`` is the query name of ``mode_field``)."""
    params = _range(
        ("fromDateTime", "toDateTime"),
        (from_date_time, to_date_time),
        _datetime,
        ("from_date_time", "to_date_time"),
    )
    params[mode_param] = _mode(mode_field, mode)
    params["videoId"] = v.optional_uuid("video_id", video_id)
    return params


class _Area(Resource):
    def _pages(
        self, page_cls: type[P], path: str, params: Mapping[str, Any]
    ) -> EnvelopePaginator[Any, P]:
        """A paginator whose pages have a richer envelope than :class:`Page`."""
        fixed = {k: val for k, val in params.items() if k != "pageNumber"}

        async def fetch(number: int) -> P:
            response = await self._call("GET", path, params={**fixed, "pageNumber": number})
            return decode(response, page_cls)

        return EnvelopePaginator(fetch, start_page=int(params.get("pageNumber", 0)))


class StripeBilling(_Area):
    """Billing periods, transactions and balances of Stripe-billed teams."""

    def list_billing_periods(
        self,
        *,
        team_id: TeamId | str | None = None,
        from_date: dt.date | None = None,
        to_date: dt.date | None = None,
        ended_mode: FilterMode | str | None = None,
        page_number: int = 0,
        page_size: int = 10,
        sort_direction: SortDirection | str | None = None,
        sort_by: SortBy | str | None = None,
    ) -> AsyncPaginator[BillingPeriod]:
        """Billing periods, optionally of one team, started within dates, ended or not."""
        params = team_paging_params(team_id, page_number, page_size, sort_direction, sort_by)
        params.update(
            _range(("fromDate", "toDate"), (from_date, to_date), _date, ("from_date", "to_date"))
        )
        params["endedMode"] = _mode("ended_mode", ended_mode)
        return self._paginate(BillingPeriod, "/v2/stripe/billing-periods", params)

    async def get_billing_period(self, billing_period_id: BillingPeriodId | str) -> BillingPeriod:
        """One Stripe billing period by its id."""
        pid = v.uuid_str("billing_period_id", billing_period_id)
        return await self._get_model(BillingPeriod, "GET", f"/v2/stripe/billing-periods/{pid}")

    async def financial_details(
        self, *, select_team_id: TeamId | str | None = None
    ) -> FinancialDetails:
        """Current balances, lifetime spend and volume discount of the selected team."""
        params = {"selectTeamId": v.optional_uuid("select_team_id", select_team_id)}
        return await self._get_model(
            FinancialDetails, "GET", "/v2/stripe/financial-details", params=params
        )

    def transactions(
        self,
        billing_period_id: BillingPeriodId | str,
        *,
        from_date_time: dt.datetime | None = None,
        to_date_time: dt.datetime | None = None,
        processing_transactions_mode: FilterMode | str | None = None,
        video_id: VideoId | str | None = None,
        page_number: int = 0,
        page_size: int = 10,
        sort_direction: SortDirection | str | None = None,
    ) -> EnvelopePaginator[Transaction, TransactionsPage]:
        """Transactions of a billing period; each page also carries the period and its totals
        (:class:`~pixop_async.models.billing.TransactionsPage`)."""
        pid = v.uuid_str("billing_period_id", billing_period_id)
        params = self._tx_params(
            from_date_time,
            to_date_time,
            processing_transactions_mode,
            video_id,
            page_number,
            page_size,
            sort_direction,
        )
        return self._pages(
            TransactionsPage, f"/v2/stripe/billing-periods/{pid}/transactions", params
        )

    def latest_transactions(
        self,
        *,
        select_team_id: TeamId | str | None = None,
        from_date_time: dt.datetime | None = None,
        to_date_time: dt.datetime | None = None,
        processing_transactions_mode: FilterMode | str | None = None,
        video_id: VideoId | str | None = None,
        page_number: int = 0,
        page_size: int = 10,
        sort_direction: SortDirection | str | None = None,
    ) -> EnvelopePaginator[Transaction, TransactionsPage]:
        """Transactions of the selected team's latest billing period."""
        params = self._tx_params(
            from_date_time,
            to_date_time,
            processing_transactions_mode,
            video_id,
            page_number,
            page_size,
            sort_direction,
        )
        params["selectTeamId"] = v.optional_uuid("select_team_id", select_team_id)
        return self._pages(
            TransactionsPage, "/v2/stripe/billing-periods/latest/transactions", params
        )

    @staticmethod
    def _tx_params(
        from_date_time: Any,
        to_date_time: Any,
        mode: Any,
        video_id: VideoId | str | None,
        page_number: int,
        page_size: int,
        sort_direction: Any,
    ) -> dict[str, Any]:
        params = paging_params(page_number, page_size, sort_direction, None)
        params.update(
            _usage_filters(
                from_date_time,
                to_date_time,
                "processingTransactionsMode",
                "processing_transactions_mode",
                mode,
                video_id,
            )
        )
        return params


class AwsMarketplaceBilling(_Area):
    """Credits usage and subscriptions of teams billed through AWS Marketplace."""

    def credits_usage(
        self,
        *,
        select_team_id: TeamId | str | None = None,
        from_date_time: dt.datetime | None = None,
        to_date_time: dt.datetime | None = None,
        processing_credits_usage_mode: FilterMode | str | None = None,
        video_id: VideoId | str | None = None,
        page_number: int = 0,
        page_size: int = 10,
        sort_direction: SortDirection | str | None = None,
    ) -> EnvelopePaginator[CreditsUsage, CreditsUsagePage]:
        """Credits used by the selected team, newest or oldest first, optionally only (or
        except) processing, or for one video; each page also carries the team, the totals
        and the filters applied (:class:`~pixop_async.models.billing.CreditsUsagePage`)."""
        params = paging_params(page_number, page_size, sort_direction, None)
        params["selectTeamId"] = v.optional_uuid("select_team_id", select_team_id)
        params.update(
            _usage_filters(
                from_date_time,
                to_date_time,
                "processingCreditsUsageMode",
                "processing_credits_usage_mode",
                processing_credits_usage_mode,
                video_id,
            )
        )
        return self._pages(CreditsUsagePage, "/v2/aws-marketplace/credits-usage", params)

    def list_subscriptions(
        self,
        *,
        team_id: TeamId | str | None = None,
        page_number: int = 0,
        page_size: int = 10,
        sort_direction: SortDirection | str | None = None,
        sort_by: SortBy | str | None = None,
    ) -> AsyncPaginator[AwsMarketplaceSubscription]:
        """Subscriptions of the caller's AWS Marketplace teams, or of one team."""
        params = team_paging_params(team_id, page_number, page_size, sort_direction, sort_by)
        return self._paginate(
            AwsMarketplaceSubscription, "/v2/aws-marketplace/subscriptions", params
        )

    async def get_subscription(self, agreement_id: str) -> AwsMarketplaceSubscription:
        """One AWS Marketplace subscription by its agreement id (letters, digits, ``-``, ``_``)."""
        aid = v.text("agreement_id", agreement_id, min_len=1, max_len=AGREEMENT_ID_MAX)
        if not aid.replace("-", "").replace("_", "").isalnum():
            raise InvalidRequestError("agreement_id", "must contain only letters, digits, - and _")
        return await self._get_model(
            AwsMarketplaceSubscription, "GET", f"/v2/aws-marketplace/subscriptions/{aid}"
        )

    async def current_subscription(
        self, *, select_team_id: TeamId | str | None = None
    ) -> AwsMarketplaceSubscription:
        """The selected team's active subscription (404 when it has none)."""
        params = {"selectTeamId": v.optional_uuid("select_team_id", select_team_id)}
        return await self._get_model(
            AwsMarketplaceSubscription,
            "GET",
            "/v2/aws-marketplace/subscriptions/current",
            params=params,
        )


class BillingResource:
    """``px.billing.stripe`` and ``px.billing.aws_marketplace``."""

    def __init__(self, client: Pixop) -> None:
        self.stripe = StripeBilling(client)
        self.aws_marketplace = AwsMarketplaceBilling(client)
