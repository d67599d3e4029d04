"""The priced job of an appraisal (``Video.processingJobAppraisal``), typed per billing type.

API 2.1.0 makes ``VideoProcessingJobAppraisal`` polymorphic on ``billingType``: Stripe teams
get :class:`VideoProcessingJobAppraisalUsd` (USD amounts, a volume discount, storage and
download estimates in USD), AWS Marketplace teams get
:class:`VideoProcessingJobAppraisalPixopCredits` (whole Pixop credits, no discount). An
answer without ``billingType`` (API 1.x) is read as USD; a billing type this SDK does not
know yet decodes as the plain base class (estimation and duration only) instead of failing.
The variants' ``billing_type`` is fixed by the class (not an ``__init__`` argument).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import attrs

from .account import BillingType
from .billing import AmountUnit, Category
from .converter import converter


@attrs.frozen
class ProcessingEstimation:
    """Expected output size (bytes) and compute time of the job."""

    file_size: int
    total_compute_time_seconds: int


@attrs.frozen(kw_only=True)
class VideoProcessingJobAppraisal:
    """What every appraisal carries; see the two subclasses for the priced parts."""

    estimation: ProcessingEstimation
    output_duration_millis: int
    billing_type: BillingType | None = None

    @property
    def currency(self) -> str | None:
        """``"USD"``, ``"PIXOP_CREDITS"``, or None for a billing type unknown to the SDK."""
        return None

    @property
    def total_cost(self) -> Decimal | int | None:
        """The job's total processing cost in :attr:`currency`."""
        return None


@attrs.frozen
class VideoProcessingJobItemUsd:
    """One priced line of a Stripe team's job (an encoder, a filter, storage...)."""

    product_name: str
    category: Category
    amount: Decimal
    amount_unit: AmountUnit
    discount_percentage: Decimal
    unit_price_usd: Decimal
    cost_usd: Decimal
    discount_usd: Decimal
    normal_cost_usd: Decimal


@attrs.frozen
class VideoProcessingJobAppraisalCostUsd:
    discount_percentage: Decimal
    total_processing_cost_usd: Decimal
    total_processing_discount_usd: Decimal
    total_normal_processing_cost_usd: Decimal
    estimated_storage_cost_usd: Decimal
    estimated_download_cost_usd: Decimal


@attrs.frozen(kw_only=True)
class VideoProcessingJobAppraisalUsd(VideoProcessingJobAppraisal):
    job_items: list[VideoProcessingJobItemUsd]
    cost: VideoProcessingJobAppraisalCostUsd
    billing_type: BillingType | None = attrs.field(default=BillingType.STRIPE, init=False)

    @property
    def currency(self) -> str:
        return "USD"

    @property
    def total_cost(self) -> Decimal:
        return self.cost.total_processing_cost_usd


@attrs.frozen
class VideoProcessingJobItemPixopCredits:
    """One line of an AWS Marketplace team's job, priced in whole Pixop credits."""

    product_name: str
    category: Category
    amount: Decimal
    amount_unit: AmountUnit
    unit_price_pixop_credits: int
    cost_pixop_credits: int


@attrs.frozen
class VideoProcessingJobAppraisalCostPixopCredits:
    total_processing_cost_pixop_credits: int
    estimated_storage_cost_pixop_credits: int
    estimated_download_cost_pixop_credits: int


@attrs.frozen(kw_only=True)
class VideoProcessingJobAppraisalPixopCredits(VideoProcessingJobAppraisal):
    job_items: list[VideoProcessingJobItemPixopCredits]
    cost: VideoProcessingJobAppraisalCostPixopCredits
    billing_type: BillingType | None = attrs.field(default=BillingType.AWS_MARKETPLACE, init=False)

    @property
    def currency(self) -> str:
        return "PIXOP_CREDITS"

    @property
    def total_cost(self) -> int:
        return self.cost.total_processing_cost_pixop_credits


AnyJobAppraisal = (
    VideoProcessingJobAppraisalUsd
    | VideoProcessingJobAppraisalPixopCredits
    | VideoProcessingJobAppraisal
)

_VARIANTS: dict[str | None, type[VideoProcessingJobAppraisal]] = {
    None: VideoProcessingJobAppraisalUsd,
    BillingType.STRIPE.value: VideoProcessingJobAppraisalUsd,
    BillingType.AWS_MARKETPLACE.value: VideoProcessingJobAppraisalPixopCredits,
}


def appraisal_class(data: Mapping[str, Any]) -> type[VideoProcessingJobAppraisal]:
    """The class an appraisal JSON object decodes into: the variant its ``billingType``
    names, the base class for an unknown billing type or when neither priced part
    (``jobItems``, ``cost``) is present."""
    if "jobItems" not in data and "cost" not in data:
        return VideoProcessingJobAppraisal
    billing_type = data.get("billingType")
    key = billing_type if isinstance(billing_type, str) or billing_type is None else ""
    return _VARIANTS.get(key, VideoProcessingJobAppraisal)


_base_structure = converter.get_structure_hook(VideoProcessingJobAppraisal)
_base_unstructure = converter.get_unstructure_hook(VideoProcessingJobAppraisal)


def _structure_appraisal(data: Any, cls: type[Any]) -> VideoProcessingJobAppraisal:
    if not isinstance(data, dict):
        raise TypeError(f"a job appraisal must be a JSON object, not {type(data).__name__}")
    chosen = appraisal_class(data)
    if chosen is VideoProcessingJobAppraisal:
        return _base_structure(data, VideoProcessingJobAppraisal)  # type: ignore[no-any-return]
    return converter.structure(data, chosen)


def _unstructure_appraisal(obj: VideoProcessingJobAppraisal) -> Any:
    if type(obj) is VideoProcessingJobAppraisal:
        return _base_unstructure(obj)
    data = converter.unstructure(obj, unstructure_as=type(obj))
    if obj.billing_type is not None:  # fixed by the class, so not an attrs init field
        data["billingType"] = obj.billing_type.value
    return data


# A field typed with the base class (``Video.processing_job_appraisal``) decodes through the
# discriminator and encodes by the runtime class; the subclasses keep their generated hooks.
converter.register_structure_hook_func(
    lambda t: t is VideoProcessingJobAppraisal, _structure_appraisal
)
converter.register_unstructure_hook_func(
    lambda t: t is VideoProcessingJobAppraisal, _unstructure_appraisal
)
