"""One SDK call per operation of API 2.1.0, keyed ``Class.operationId`` as in the Java SDK.

Every optional argument is given, so every query parameter the operation has must go out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

from pixop_async import Pixop
from pixop_async.models.locations import S3BucketWithAccessKeys

ID = [f"{n:08x}-1111-4222-8333-{n:012x}" for n in range(1, 6)]
WHEN = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
BUCKET = S3BucketWithAccessKeys("conformance-bucket", "AKIACONFORMANCE01", "s3cret-key")
OPTIONS: Any = {
    "filters": {"scaler": "DVRES2"},
    "filterSettings": {"resolution": {"tag": "2X"}},
    "container": "MOV",
}
PAGING: dict[str, Any] = dict(
    page_number=1, page_size=20, sort_direction="DESC", sort_by="updatedAt"
)
WINDOW: dict[str, Any] = dict(
    from_date_time=WHEN, to_date_time=WHEN + dt.timedelta(days=1), video_id=ID[2]
)
HOOK = "https://hooks.example.com/pixop"

Call = Callable[[Pixop], Awaitable[Any]]


def first_page(paginator: Any) -> Awaitable[Any]:
    async def first() -> Any:
        return await paginator

    return first()


CALLS: dict[str, Call] = {
    "AccountApi.getAccount": lambda px: px.account.get(),
    "ApiKeyApi.activateApiKeyById": lambda px: px.api_keys.activate(ID[0]),
    "ApiKeyApi.createApiKey": lambda px: px.api_keys.create("k", description="d", active=False),
    "ApiKeyApi.deactivateApiKeyById": lambda px: px.api_keys.deactivate(ID[0]),
    "ApiKeyApi.deleteApiKeyById": lambda px: px.api_keys.delete(ID[0]),
    "ApiKeyApi.getApiKeyById": lambda px: px.api_keys.get(ID[0]),
    "ApiKeyApi.getApiKeys": lambda px: first_page(px.api_keys.list(**PAGING)),
    "ApiKeyApi.patchApiKey": lambda px: px.api_keys.update(ID[0], name="n", description="d"),
    "ProjectApi.createProject": lambda px: px.projects.create("p", select_team_id=ID[1]),
    "ProjectApi.deleteProjectById": lambda px: px.projects.delete(ID[0]),
    "ProjectApi.getDefaultProject": lambda px: px.projects.get_default(select_team_id=ID[1]),
    "ProjectApi.getProjectById": lambda px: px.projects.get(ID[0]),
    "ProjectApi.getProjects": lambda px: first_page(px.projects.list(team_id=ID[1], **PAGING)),
    "ProjectApi.patchProject": lambda px: px.projects.update(ID[0], name="n"),
    "S3InputLocationApi.createS3InputLocation": lambda px: px.input_locations.create(
        "in", "bucket-in", "AKIAINPUT0001", "secret", select_team_id=ID[1]
    ),
    "S3InputLocationApi.deleteS3InputLocationById": lambda px: px.input_locations.delete(ID[0]),
    "S3InputLocationApi.getS3InputLocationById": lambda px: px.input_locations.get(ID[0]),
    "S3InputLocationApi.getS3InputLocations": lambda px: first_page(
        px.input_locations.list(team_id=ID[1], **PAGING)
    ),
    "S3InputLocationApi.patchS3InputLocation": lambda px: px.input_locations.update(
        ID[0], name="n", bucket="bucket-2", access_key="AKIAINPUT0002", secret_access_key="s2"
    ),
    "S3OutputLocationApi.createS3OutputLocation": lambda px: px.output_locations.create(
        "out", "bucket-out", "AKIAOUTPUT001", "secret", select_team_id=ID[1]
    ),
    "S3OutputLocationApi.deleteS3OutputLocationById": lambda px: px.output_locations.delete(ID[0]),
    "S3OutputLocationApi.getS3OutputLocationById": lambda px: px.output_locations.get(ID[0]),
    "S3OutputLocationApi.getS3OutputLocations": lambda px: first_page(
        px.output_locations.list(team_id=ID[1], **PAGING)
    ),
    "S3OutputLocationApi.patchS3OutputLocation": lambda px: px.output_locations.update(
        ID[0], name="n", bucket="bucket-3", access_key="AKIAOUTPUT002", secret_access_key="s3"
    ),
    "TeamApi.getTeamById": lambda px: px.teams.get(ID[1]),
    "TeamApi.getTeams": lambda px: first_page(px.teams.list(**PAGING)),
    "VideoApi.deleteVideoById": lambda px: px.videos.delete(ID[0], expected_derived_ids=[ID[3]]),
    "VideoApi.getDerivedVideos": lambda px: first_page(px.videos.derived(ID[0], **PAGING)),
    "VideoApi.getVideoById": lambda px: px.videos.get(ID[0]),
    "VideoApi.getVideoComparisonLink": lambda px: px.videos.compare_with(ID[0], ID[3]),
    "VideoApi.getVideos": lambda px: first_page(
        px.videos.list(
            team_id=ID[1],
            project_id=ID[2],
            master_video_id=ID[3],
            clip_id=ID[4],
            clip_mode="EXCLUDE",
            **PAGING,
        )
    ),
    "VideoApi.patchVideo": lambda px: px.videos.update(ID[0], name="n", description="d"),
    "VideoInApi.abandonFailedVideoInOperation": lambda px: px.imports.abandon(ID[0]),
    "VideoInApi.createMasterVideoFromHttps": lambda px: px.imports.from_https(
        "https://media.example.com/film.mov",
        "film",
        description="d",
        project_id=ID[2],
        file_name="film.mov",
        crc32c=123456,
        full_ingestion=True,
        max_concurrent_connections=4,
        select_team_id=ID[1],
    ),
    "VideoInApi.createMasterVideoFromS3Bucket": lambda px: px.imports.from_s3(
        BUCKET,
        "in/film.mov",
        "film",
        description="d",
        project_id=ID[2],
        file_name="film.mov",
        full_ingestion=True,
        select_team_id=ID[1],
    ),
    "VideoInApi.createMasterVideoFromS3InputLocationId": lambda px: px.imports.from_s3_location(
        ID[0],
        "in/film.mov",
        "film",
        description="d",
        project_id=ID[2],
        file_name="film.mov",
        full_ingestion=True,
        select_team_id=ID[1],
    ),
    "VideoInApi.getVideoInStatus": lambda px: px.imports.status(ID[0]),
    "VideoInApi.restartFailedVideoInOperation": lambda px: px.imports.restart(
        ID[0], skip_checksum_validation=True
    ),
    "VideoOutApi.abandonFailedVideoOutOperation": lambda px: px.exports.abandon(ID[0]),
    "VideoOutApi.copyVideoDataToS3Bucket": lambda px: px.exports.to_s3(ID[0], BUCKET, "out/"),
    "VideoOutApi.copyVideoDataToS3OutputLocationId": lambda px: px.exports.to_s3_location(
        ID[0], ID[1], "out/"
    ),
    "VideoOutApi.generateVideoDownloadUrl": lambda px: px.exports.download_url(ID[0], 30),
    "VideoOutApi.getVideoOutStatus": lambda px: px.exports.status(ID[0]),
    "VideoOutApi.restartFailedVideoOutOperation": lambda px: px.exports.restart(ID[0]),
    "VideoProcessingApi.acceptVideoProcessingAppraisal": lambda px: px.processing.accept_appraisal(
        ID[0], ID[1], video_name="v", video_description="d"
    ),
    "VideoProcessingApi.createVideoProcessingAppraisal": lambda px: px.processing.appraise(
        ID[0], OPTIONS, start_pos_ms=1000, end_pos_ms=5000
    ),
    "VideoProcessingApi.createVideoProcessingAppraisalByConfId": lambda px: (
        px.processing.appraise_with_configuration(ID[0], ID[1], start_pos_ms=0, end_pos_ms=9000)
    ),
    "VideoProcessingApi.getVideoProcessingStatus": lambda px: px.processing.status(ID[0]),
    "VideoProcessingApi.startProcessingByVideoId": lambda px: px.processing.start(
        ID[0], OPTIONS, video_name="v", video_description="d", start_pos_ms=0, end_pos_ms=9000
    ),
    "VideoProcessingApi.startProcessingByVideoIdAndConfId": lambda px: (
        px.processing.start_with_configuration(
            ID[0], ID[1], video_name="v", video_description="d", start_pos_ms=0, end_pos_ms=9000
        )
    ),
    "VideoProcessingConfigurationApi.createVideoProcessingConfiguration": lambda px: (
        px.processing_configurations.create("c", OPTIONS, description="d", select_team_id=ID[1])
    ),
    "VideoProcessingConfigurationApi.deleteVideoProcessingConfigurationById": lambda px: (
        px.processing_configurations.delete(ID[0])
    ),
    "VideoProcessingConfigurationApi.getVideoProcessingConfigurationById": lambda px: (
        px.processing_configurations.get(ID[0])
    ),
    "VideoProcessingConfigurationApi.getVideoProcessingConfigurations": lambda px: first_page(
        px.processing_configurations.list(team_id=ID[1], built_in_mode="ONLY", **PAGING)
    ),
    "WebhookApi.activateWebhookById": lambda px: px.webhooks.activate(ID[0]),
    "WebhookApi.createWebhook": lambda px: px.webhooks.create(
        "w",
        HOOK,
        ["video_in.done"],
        rate_limit_per_second=5,
        active=False,
        description="d",
        select_team_id=ID[1],
    ),
    "WebhookApi.deactivateWebhookById": lambda px: px.webhooks.deactivate(ID[0]),
    "WebhookApi.deleteWebhookById": lambda px: px.webhooks.delete(ID[0]),
    "WebhookApi.getWebhookById": lambda px: px.webhooks.get(ID[0]),
    "WebhookApi.getWebhooks": lambda px: first_page(px.webhooks.list(team_id=ID[1], **PAGING)),
    "WebhookApi.patchWebhook": lambda px: px.webhooks.update(
        ID[0],
        name="n",
        url=HOOK,
        event_types=["video.deleted"],
        rate_limit_per_second=9,
        max_total_retry_delay_minutes=30,
        description="d",
    ),
    "WebhookApi.testVideoWebhookById": lambda px: px.webhooks.test(
        ID[0], video_id=ID[3], event_type="video_out.done"
    ),
    "WebhookEventApi.getWebhookEventById": lambda px: px.webhooks.events.get(ID[0]),
    "WebhookEventApi.getWebhookEvents": lambda px: first_page(
        px.webhooks.events.list(
            team_id=ID[1],
            successful_mode="EXCLUDE",
            test_mode="ONLY",
            occurred_at_from=WHEN,
            occurred_at_until=WHEN + dt.timedelta(hours=1),
            **PAGING,
        )
    ),
    "WebhookPublicKeyApi.getWebhookPublicKeyById": lambda px: px.webhooks.public_keys.get(ID[0]),
    "WebhookPublicKeyApi.getWebhookPublicKeys": lambda px: px.webhooks.public_keys.list(),
    "StripeBillingApi.getStripeBillingPeriodById": lambda px: px.billing.stripe.get_billing_period(
        ID[0]
    ),
    "StripeBillingApi.getStripeBillingPeriods": lambda px: first_page(
        px.billing.stripe.list_billing_periods(
            team_id=ID[1],
            from_date=WHEN.date(),
            to_date=WHEN.date() + dt.timedelta(days=30),
            ended_mode="ONLY",
            **PAGING,
        )
    ),
    "StripeBillingApi.getStripeFinancialDetails": lambda px: px.billing.stripe.financial_details(
        select_team_id=ID[1]
    ),
    "StripeBillingApi.getStripeTransactionsByBillingPeriodId": lambda px: first_page(
        px.billing.stripe.transactions(
            ID[0],
            processing_transactions_mode="EXCLUDE",
            page_number=1,
            page_size=20,
            sort_direction="ASC",
            **WINDOW,
        )
    ),
    "StripeBillingApi.getStripeTransactionsForLatestBillingPeriod": lambda px: first_page(
        px.billing.stripe.latest_transactions(
            select_team_id=ID[1],
            processing_transactions_mode="ONLY",
            page_number=1,
            page_size=20,
            sort_direction="ASC",
            **WINDOW,
        )
    ),
    "AwsMarketplaceBillingApi.getAwsMarketplacePixopCreditsUsage": lambda px: first_page(
        px.billing.aws_marketplace.credits_usage(
            select_team_id=ID[1],
            processing_credits_usage_mode="ONLY",
            page_number=1,
            page_size=20,
            sort_direction="ASC",
            **WINDOW,
        )
    ),
    "AwsMarketplaceBillingApi.getAwsMarketplaceSubscriptionByAgreementId": lambda px: (
        px.billing.aws_marketplace.get_subscription("agmt-0123456789abcdef")
    ),
    "AwsMarketplaceBillingApi.getAwsMarketplaceSubscriptions": lambda px: first_page(
        px.billing.aws_marketplace.list_subscriptions(team_id=ID[1], **PAGING)
    ),
    "AwsMarketplaceBillingApi.getCurrentAwsMarketplaceSubscription": lambda px: (
        px.billing.aws_marketplace.current_subscription(select_team_id=ID[1])
    ),
}
