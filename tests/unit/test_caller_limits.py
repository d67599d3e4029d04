"""Hostile input from callers: every public client method, every argument, every limit.

One table row per method + argument. Hypothesis draws values just outside the documented
limits (too long, too short, out of range, not a UUID, not a member of the enum, wrong
type) and each must raise :class:`InvalidRequestError` naming the argument *before any
request* (aioresponses with no mocked URL records every request that would leave). It
also draws values just inside the limits, which must pass validation and reach the
network, so the boundary sits exactly where the API documents it. A last test checks
that the table covers every public method that takes input.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import inspect
import math
import uuid
from collections.abc import Callable
from typing import Any

import attrs
import pytest
from aioresponses import aioresponses
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pixop_async import ClientConfig, Pixop, PixopLegacy, RetryPolicy, download_url, upload_to_s3
from pixop_async.errors import APIConnectionError, InvalidRequestError, PixopError
from pixop_async.ids import VideoId
from pixop_async.models.enums import FilterMode, SortBy, SortDirection
from pixop_async.models.locations import S3BucketWithAccessKeys
from pixop_async.models.videos import ClipMode, VideoDownloadUrl
from pixop_async.models.webhooks import WebhookEventType

BASE = "https://api.example.test"
V = "5b8e9c6a-1d2f-4f3a-9b7c-0e1d2c3b4a59"
BUCKET = S3BucketWithAccessKeys("my-bucket", "AKIAEXAMPLE", "s3-secret-value")
RECORD = VideoDownloadUrl(
    VideoId(uuid.UUID(V)), "https://example.com/v", dt.datetime.now(dt.timezone.utc), 10,
    "video/mp4", "mp4", "v.mp4",
)


@attrs.frozen
class Clients:
    px: Pixop
    legacy: PixopLegacy


@attrs.frozen
class Arg:
    """One method argument and its limits as strategies."""

    method: str  # e.g. "projects.create" or "legacy.videos.create"
    call: Callable[[Clients, Any], Any]
    field: str
    bad: st.SearchStrategy[Any]
    good: st.SearchStrategy[Any] | None = None
    rule: str | None = None  # a fragment of the rule text

    @property
    def id(self) -> str:
        return f"{self.method}:{self.field}"


_NOT_TEXT = st.one_of(st.integers(), st.binary(max_size=4), st.lists(st.text(), max_size=2))
_NOT_INT = st.one_of(
    st.booleans(), st.floats(allow_nan=True), st.text(max_size=4), st.decimals(allow_nan=False)
)


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def text_arg(
    method: str, call: Callable[[Clients, Any], Any], field: str, max_len: int | None,
    min_len: int = 1,
) -> Arg:  # fmt: skip
    bad: list[st.SearchStrategy[Any]] = [_NOT_TEXT]
    if max_len is not None:
        bad.append(st.text(min_size=max_len + 1, max_size=max_len + 40))
    if min_len > 0:
        bad.append(st.text(max_size=min_len - 1))
    top = max_len if max_len is not None else min_len + 300
    return Arg(method, call, field, st.one_of(bad), st.text(min_size=min_len, max_size=top), "must")


def int_arg(
    method: str, call: Callable[[Clients, Any], Any], field: str, lo: int, hi: int | None,
) -> Arg:  # fmt: skip
    bad: list[st.SearchStrategy[Any]] = [_NOT_INT, st.integers(max_value=lo - 1)]
    if hi is not None:
        bad.append(st.integers(min_value=hi + 1))
    good = st.integers(min_value=lo, max_value=hi if hi is not None else lo + 10**9)
    return Arg(method, call, field, st.one_of(bad), good)


def uuid_arg(method: str, call: Callable[[Clients, Any], Any], field: str) -> Arg:
    bad = st.one_of(
        st.text(max_size=40).filter(lambda s: not _is_uuid(s)),
        st.integers(),
        st.just(V + "0"),
        st.just("../" + V),
        st.just(V.replace("-", "/")),
    )
    return Arg(method, call, field, bad, st.one_of(st.uuids(), st.uuids().map(str)), "UUID")


def enum_arg(
    method: str, call: Callable[[Clients, Any], Any], field: str, values: list[Any]
) -> Arg:
    known = {getattr(v, "value", v) for v in values}
    bad = st.one_of(st.text(max_size=12).filter(lambda s: s not in known), st.integers())
    return Arg(method, call, field, bad, st.sampled_from(values), "one of")


def bool_arg(method: str, call: Callable[[Clients, Any], Any], field: str) -> Arg:
    bad = st.one_of(st.integers(), st.text(max_size=3), st.none())
    return Arg(method, call, field, bad, st.booleans(), "bool")


def url_arg(method: str, call: Callable[[Clients, Any], Any], field: str) -> Arg:
    bad = st.sampled_from(
        [
            "http://example.com/v.mp4",
            "ftp://example.com/v.mp4",
            "https://127.0.0.1/v.mp4",
            "https://10.1.2.3/v.mp4",
            "https://192.168.0.7/v.mp4",
            "https://[::1]/v.mp4",
            "https://169.254.169.254/latest/meta-data",
            "https://example.com:8443/v.mp4",
            "https://user:pw@example.com/v.mp4",
            "not a url",
            "",
            "https://",
            "file:///etc/passwd",
        ]
    )
    good = st.sampled_from(["https://example.com/v.mp4", "https://cdn.example.org/a/b.mov"])
    return Arg(method, call, field, st.one_of(bad, st.integers()), good)


def paging(method: str, call: Callable[[Clients, dict[str, Any]], Any]) -> list[Arg]:
    """The paging arguments every list method shares."""

    def with_(name: str) -> Callable[[Clients, Any], Any]:
        return lambda c, x: call(c, {name: x})

    return [
        int_arg(method, with_("page_size"), "page_size", 1, 100),
        int_arg(method, with_("page_number"), "page_number", 0, None),
        enum_arg(method, with_("sort_direction"), "sort_direction", list(SortDirection)),
    ]


def sortable(method: str, call: Callable[[Clients, dict[str, Any]], Any]) -> list[Arg]:
    return [
        *paging(method, call),
        enum_arg(method, lambda c, x: call(c, {"sort_by": x}), "sort_by", list(SortBy)),
    ]


#: S3 bucket names: 3-63 characters, DNS-compliant, not an IP address.
BAD_BUCKETS = st.one_of(
    st.text(max_size=2),
    st.text(min_size=64, max_size=80),
    st.sampled_from(["-bad-", "UPPER", "a..b", "1.2.3.4", "a_b", "a-", "my bucket"]),
    st.integers(),
)
GOOD_BUCKETS = st.from_regex(r"\A[a-z0-9][a-z0-9-]{1,61}[a-z0-9]\Z")

E = list(WebhookEventType)[:1]
NOW = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)

ROWS: list[Arg] = [
    # projects and teams
    text_arg("projects.create", lambda c, x: c.px.projects.create(x), "name", 47),
    uuid_arg("projects.create", lambda c, x: c.px.projects.create("p", select_team_id=x),
             "select_team_id"),
    uuid_arg("projects.get", lambda c, x: c.px.projects.get(x), "project_id"),
    uuid_arg("projects.delete", lambda c, x: c.px.projects.delete(x), "project_id"),
    uuid_arg("projects.update", lambda c, x: c.px.projects.update(x, name="n"), "project_id"),
    text_arg("projects.update", lambda c, x: c.px.projects.update(V, name=x), "name", 47),
    uuid_arg("projects.get_default", lambda c, x: c.px.projects.get_default(select_team_id=x),
             "select_team_id"),
    uuid_arg("projects.list", lambda c, x: c.px.projects.list(team_id=x), "team_id"),
    *sortable("projects.list", lambda c, kw: c.px.projects.list(**kw)),
    uuid_arg("teams.get", lambda c, x: c.px.teams.get(x), "team_id"),
    *sortable("teams.list", lambda c, kw: c.px.teams.list(**kw)),
    # API keys (HTTP Basic)
    text_arg("api_keys.create", lambda c, x: c.px.api_keys.create(x), "name", 47),
    text_arg("api_keys.create", lambda c, x: c.px.api_keys.create("k", description=x),
             "description", 511, min_len=0),
    bool_arg("api_keys.create", lambda c, x: c.px.api_keys.create("k", active=x), "active"),
    uuid_arg("api_keys.get", lambda c, x: c.px.api_keys.get(x), "key_id"),
    uuid_arg("api_keys.activate", lambda c, x: c.px.api_keys.activate(x), "key_id"),
    uuid_arg("api_keys.deactivate", lambda c, x: c.px.api_keys.deactivate(x), "key_id"),
    uuid_arg("api_keys.delete", lambda c, x: c.px.api_keys.delete(x), "key_id"),
    text_arg("api_keys.update", lambda c, x: c.px.api_keys.update(V, name=x), "name", 47),
    text_arg("api_keys.update", lambda c, x: c.px.api_keys.update(V, description=x),
             "description", 511, min_len=0),
    *sortable("api_keys.list", lambda c, kw: c.px.api_keys.list(**kw)),
    # videos
    uuid_arg("videos.get", lambda c, x: c.px.videos.get(x), "video_id"),
    uuid_arg("videos.delete", lambda c, x: c.px.videos.delete(x), "video_id"),
    text_arg("videos.update", lambda c, x: c.px.videos.update(V, name=x), "name", 255),
    text_arg("videos.update", lambda c, x: c.px.videos.update(V, description=x),
             "description", 511, min_len=0),
    uuid_arg("videos.compare_with", lambda c, x: c.px.videos.compare_with(V, x),
             "target_video_id"),
    uuid_arg("videos.derived", lambda c, x: c.px.videos.derived(x), "video_id"),
    *sortable("videos.derived", lambda c, kw: c.px.videos.derived(V, **kw)),
    uuid_arg("videos.list", lambda c, x: c.px.videos.list(project_id=x), "project_id"),
    uuid_arg("videos.list", lambda c, x: c.px.videos.list(master_video_id=x), "master_video_id"),
    enum_arg("videos.list", lambda c, x: c.px.videos.list(clip_mode=x), "clip_mode",
             list(ClipMode)),
    *sortable("videos.list", lambda c, kw: c.px.videos.list(**kw)),
    # imports
    url_arg("imports.from_https", lambda c, x: c.px.imports.from_https(x, "n"), "url"),
    text_arg("imports.from_https",
             lambda c, x: c.px.imports.from_https("https://example.com/v.mp4", x), "name", 255),
    text_arg("imports.from_https",
             lambda c, x: c.px.imports.from_https("https://example.com/v.mp4", "n",
                                                  description=x), "description", 511, 0),
    text_arg("imports.from_https",
             lambda c, x: c.px.imports.from_https("https://example.com/v.mp4", "n", file_name=x),
             "file_name", 255),
    int_arg("imports.from_https",
            lambda c, x: c.px.imports.from_https("https://example.com/v.mp4", "n", crc32c=x),
            "crc32c", 0, 2**32 - 1),
    int_arg("imports.from_https",
            lambda c, x: c.px.imports.from_https("https://example.com/v.mp4", "n",
                                                 max_concurrent_connections=x),
            "max_concurrent_connections", 1, 20),
    uuid_arg("imports.from_https",
             lambda c, x: c.px.imports.from_https("https://example.com/v.mp4", "n", project_id=x),
             "project_id"),
    bool_arg("imports.from_https",
             lambda c, x: c.px.imports.from_https("https://example.com/v.mp4", "n",
                                                  full_ingestion=x), "full_ingestion"),
    text_arg("imports.from_s3", lambda c, x: c.px.imports.from_s3(BUCKET, x, "n"),
             "object_key", 1024),
    text_arg("imports.from_s3", lambda c, x: c.px.imports.from_s3(BUCKET, "k", x), "name", 255),
    uuid_arg("imports.from_s3_location",
             lambda c, x: c.px.imports.from_s3_location(x, "k", "n"), "input_location_id"),
    text_arg("imports.from_s3_location",
             lambda c, x: c.px.imports.from_s3_location(V, x, "n"), "object_key", 1024),
    uuid_arg("imports.status", lambda c, x: c.px.imports.status(x), "video_id"),
    uuid_arg("imports.restart", lambda c, x: c.px.imports.restart(x), "video_id"),
    bool_arg("imports.restart",
             lambda c, x: c.px.imports.restart(V, skip_checksum_validation=x),
             "skip_checksum_validation"),
    uuid_arg("imports.abandon", lambda c, x: c.px.imports.abandon(x), "video_id"),
    # exports and downloads
    uuid_arg("exports.to_s3", lambda c, x: c.px.exports.to_s3(x, BUCKET, "out/"), "video_id"),
    text_arg("exports.to_s3", lambda c, x: c.px.exports.to_s3(V, BUCKET, x),
             "object_key_prefix", 1024, min_len=0),
    uuid_arg("exports.to_s3_location", lambda c, x: c.px.exports.to_s3_location(V, x, "o/"),
             "output_location_id"),
    int_arg("exports.download_url", lambda c, x: c.px.exports.download_url(V, x),
            "duration_minutes", 1, 60),
    uuid_arg("exports.download_url", lambda c, x: c.px.exports.download_url(x), "video_id"),
    uuid_arg("exports.status", lambda c, x: c.px.exports.status(x), "video_id"),
    uuid_arg("exports.restart", lambda c, x: c.px.exports.restart(x), "video_id"),
    uuid_arg("exports.abandon", lambda c, x: c.px.exports.abandon(x), "video_id"),
    uuid_arg("downloads.download", lambda c, x: c.px.downloads.download(x, "/nonexistent/"),
             "video_id"),
    int_arg("downloads.download",
            lambda c, x: c.px.downloads.download(V, "/nonexistent/", duration_minutes=x),
            "duration_minutes", 1, 60),
    int_arg("downloads.download",
            lambda c, x: c.px.downloads.download(V, "/nonexistent/", connections=x),
            "connections", 1, 32),
    int_arg("downloads.download_many",
            lambda c, x: c.px.downloads.download_many([V], "/nonexistent/", duration_minutes=x),
            "duration_minutes", 1, 60),
    uuid_arg("downloads.download_many",
             lambda c, x: c.px.downloads.download_many([V, x], "/nonexistent/"), "video_ids[]"),
    Arg("downloads.existing_copy", lambda c, x: c.px.downloads.existing_copy(x, "/nonexistent/"),
        "record", st.one_of(st.text(max_size=10), st.integers(), st.none(), st.just({}))),
    Arg("downloads.existing_copy", lambda c, x: c.px.downloads.existing_copy(RECORD, x),
        "dest", st.one_of(st.just(""), st.integers(), st.none())),
    # saved S3 locations
    text_arg("input_locations.create",
             lambda c, x: c.px.input_locations.create(x, "my-bucket", "AK", "SK"), "name", 255),
    Arg("input_locations.create",
        lambda c, x: c.px.input_locations.create("n", x, "AK", "SK"), "bucket",
        BAD_BUCKETS, GOOD_BUCKETS),
    Arg("imports.from_s3",
        lambda c, x: c.px.imports.from_s3(S3BucketWithAccessKeys(x, "AK", "SK"), "k", "n"),
        "s3_bucket.bucket", BAD_BUCKETS, GOOD_BUCKETS),
    Arg("imports.from_s3", lambda c, x: c.px.imports.from_s3(x, "k", "n"), "s3_bucket",
        st.one_of(st.text(max_size=10), st.none(), st.dictionaries(st.text(), st.text()))),
    Arg("exports.to_s3",
        lambda c, x: c.px.exports.to_s3(V, S3BucketWithAccessKeys("my-bucket", x, "SK"), "o/"),
        "s3_bucket.access_key", st.one_of(st.just(""), st.integers(), st.none())),
    Arg("exports.to_s3",
        lambda c, x: c.px.exports.to_s3(V, S3BucketWithAccessKeys(x, "AK", "SK"), "o/"),
        "s3_bucket.bucket", BAD_BUCKETS, GOOD_BUCKETS),
    uuid_arg("input_locations.get", lambda c, x: c.px.input_locations.get(x), "location_id"),
    uuid_arg("input_locations.delete", lambda c, x: c.px.input_locations.delete(x),
             "location_id"),
    text_arg("input_locations.update",
             lambda c, x: c.px.input_locations.update(V, name=x), "name", 255),
    *sortable("input_locations.list", lambda c, kw: c.px.input_locations.list(**kw)),
    text_arg("output_locations.create",
             lambda c, x: c.px.output_locations.create(x, "my-bucket", "AK", "SK"), "name", 255),
    uuid_arg("output_locations.get", lambda c, x: c.px.output_locations.get(x), "location_id"),
    uuid_arg("output_locations.delete", lambda c, x: c.px.output_locations.delete(x),
             "location_id"),
    text_arg("output_locations.update",
             lambda c, x: c.px.output_locations.update(V, name=x), "name", 255),
    *sortable("output_locations.list", lambda c, kw: c.px.output_locations.list(**kw)),
    # processing
    uuid_arg("processing.start", lambda c, x: c.px.processing.start(x, {}), "video_id"),
    int_arg("processing.start", lambda c, x: c.px.processing.start(V, {}, start_pos_ms=x),
            "start_pos_ms", 0, None),
    int_arg("processing.start", lambda c, x: c.px.processing.start(V, {}, end_pos_ms=x),
            "end_pos_ms", 1000, None),
    text_arg("processing.start", lambda c, x: c.px.processing.start(V, {}, video_name=x),
             "video_name", 255),
    uuid_arg("processing.appraise", lambda c, x: c.px.processing.appraise(x, {}), "video_id"),
    int_arg("processing.appraise", lambda c, x: c.px.processing.appraise(V, {}, start_pos_ms=x),
            "start_pos_ms", 0, None),
    uuid_arg("processing.start_with_configuration",
             lambda c, x: c.px.processing.start_with_configuration(V, x), "conf_id"),
    uuid_arg("processing.appraise_with_configuration",
             lambda c, x: c.px.processing.appraise_with_configuration(V, x), "conf_id"),
    uuid_arg("processing.accept_appraisal",
             lambda c, x: c.px.processing.accept_appraisal(V, x), "appraisal_id"),
    text_arg("processing.accept_appraisal",
             lambda c, x: c.px.processing.accept_appraisal(V, V, video_description=x),
             "video_description", 511, min_len=0),
    uuid_arg("processing.status", lambda c, x: c.px.processing.status(x), "video_id"),
    text_arg("processing_configurations.create",
             lambda c, x: c.px.processing_configurations.create(x, {}), "name", 47),
    text_arg("processing_configurations.create",
             lambda c, x: c.px.processing_configurations.create("n", {}, description=x),
             "description", 511, min_len=0),
    uuid_arg("processing_configurations.get",
             lambda c, x: c.px.processing_configurations.get(x), "conf_id"),
    uuid_arg("processing_configurations.delete",
             lambda c, x: c.px.processing_configurations.delete(x), "conf_id"),
    enum_arg("processing_configurations.list",
             lambda c, x: c.px.processing_configurations.list(built_in_mode=x), "built_in_mode",
             list(FilterMode)),
    *sortable("processing_configurations.list",
              lambda c, kw: c.px.processing_configurations.list(**kw)),
    # webhooks
    text_arg("webhooks.create",
             lambda c, x: c.px.webhooks.create(x, "https://hooks.example.com/x", E), "name",
             None),
    url_arg("webhooks.create", lambda c, x: c.px.webhooks.create("w", x, E), "url"),
    enum_arg("webhooks.create",
             lambda c, x: c.px.webhooks.create("w", "https://hooks.example.com/x", [x]),
             "event_types[0]", list(WebhookEventType)),
    int_arg("webhooks.create",
            lambda c, x: c.px.webhooks.create("w", "https://hooks.example.com/x", E,
                                              rate_limit_per_second=x),
            "rate_limit_per_second", 1, 1000),
    int_arg("webhooks.update",
            lambda c, x: c.px.webhooks.update(V, max_total_retry_delay_minutes=x),
            "max_total_retry_delay_minutes", 0, 1440),
    int_arg("webhooks.update", lambda c, x: c.px.webhooks.update(V, rate_limit_per_second=x),
            "rate_limit_per_second", 1, 1000),
    url_arg("webhooks.update", lambda c, x: c.px.webhooks.update(V, url=x), "url"),
    uuid_arg("webhooks.get", lambda c, x: c.px.webhooks.get(x), "webhook_id"),
    uuid_arg("webhooks.delete", lambda c, x: c.px.webhooks.delete(x), "webhook_id"),
    uuid_arg("webhooks.activate", lambda c, x: c.px.webhooks.activate(x), "webhook_id"),
    uuid_arg("webhooks.deactivate", lambda c, x: c.px.webhooks.deactivate(x), "webhook_id"),
    uuid_arg("webhooks.test", lambda c, x: c.px.webhooks.test(V, video_id=x), "video_id"),
    enum_arg("webhooks.test", lambda c, x: c.px.webhooks.test(V, event_type=x), "event_type",
             list(WebhookEventType)),
    *sortable("webhooks.list", lambda c, kw: c.px.webhooks.list(**kw)),
    uuid_arg("webhooks.events.get", lambda c, x: c.px.webhooks.events.get(x), "event_id"),
    enum_arg("webhooks.events.list",
             lambda c, x: c.px.webhooks.events.list(successful_mode=x), "successful_mode",
             list(FilterMode)),
    uuid_arg("webhooks.public_keys.get", lambda c, x: c.px.webhooks.public_keys.get(x),
             "key_id"),
    # billing
    uuid_arg("billing.stripe.get_billing_period",
             lambda c, x: c.px.billing.stripe.get_billing_period(x), "billing_period_id"),
    enum_arg("billing.stripe.list_billing_periods",
             lambda c, x: c.px.billing.stripe.list_billing_periods(ended_mode=x), "ended_mode",
             list(FilterMode)),
    *paging("billing.stripe.list_billing_periods",
            lambda c, kw: c.px.billing.stripe.list_billing_periods(**kw)),
    uuid_arg("billing.stripe.transactions",
             lambda c, x: c.px.billing.stripe.transactions(x), "billing_period_id"),
    uuid_arg("billing.stripe.latest_transactions",
             lambda c, x: c.px.billing.stripe.latest_transactions(video_id=x), "video_id"),
    uuid_arg("billing.stripe.financial_details",
             lambda c, x: c.px.billing.stripe.financial_details(select_team_id=x),
             "select_team_id"),
    Arg("billing.aws_marketplace.get_subscription",
        lambda c, x: c.px.billing.aws_marketplace.get_subscription(x), "agreement_id",
        st.one_of(st.just(""), st.text(min_size=256, max_size=300),
                  st.sampled_from(["../x", "a/b", "a?b", "a b", "a#b"]), _NOT_TEXT),
        st.from_regex(r"\A[A-Za-z0-9_-]{1,64}\Z")),
    uuid_arg("billing.aws_marketplace.credits_usage",
             lambda c, x: c.px.billing.aws_marketplace.credits_usage(video_id=x), "video_id"),
    *paging("billing.aws_marketplace.list_subscriptions",
            lambda c, kw: c.px.billing.aws_marketplace.list_subscriptions(**kw)),
    uuid_arg("billing.aws_marketplace.current_subscription",
             lambda c, x: c.px.billing.aws_marketplace.current_subscription(select_team_id=x),
             "select_team_id"),
    # admin: Mimir integration
    int_arg("admin.mimir_integration.create_or_update",
            lambda c, x: c.px.admin.mimir_integration.create_or_update(
                mimir_tenant="t", mimir_api_key="k", mimir_notification_user_id="u",
                days_to_live=x), "days_to_live", 1, 90),
    int_arg("admin.mimir_integration.create_or_update",
            lambda c, x: c.px.admin.mimir_integration.create_or_update(
                mimir_tenant="t", mimir_api_key="k", mimir_notification_user_id="u",
                tenant_idle_lease_window_hours=x), "tenant_idle_lease_window_hours", 1, 168),
    int_arg("admin.mimir_integration.create_or_update",
            lambda c, x: c.px.admin.mimir_integration.create_or_update(
                mimir_tenant="t", mimir_api_key="k", mimir_notification_user_id="u",
                max_processing_jobs_per_source_video=x),
            "max_processing_jobs_per_source_video", 1, 5),
    text_arg("admin.mimir_integration.create_or_update",
             lambda c, x: c.px.admin.mimir_integration.create_or_update(
                 mimir_tenant="t", mimir_api_key="k", mimir_notification_user_id=x),
             "mimir_notification_user_id", 256),
    Arg("admin.mimir_integration.delete",
        lambda c, x: c.px.admin.mimir_integration.delete(mimir_tenant=x, mimir_api_key="k"),
        "mimir_tenant", st.one_of(st.just(""), st.sampled_from(["a\r\nb", "a\nX-Evil: 1", "\x00"]),
                                  st.integers())),
    # legacy API
    text_arg("legacy.videos.create", lambda c, x: c.legacy.videos.create(name=x), "name", 255),
    uuid_arg("legacy.videos.create", lambda c, x: c.legacy.videos.create(project_id=x),
             "project_id"),
    uuid_arg("legacy.videos.get", lambda c, x: c.legacy.videos.get(x), "video_id"),
    uuid_arg("legacy.videos.delete", lambda c, x: c.legacy.videos.delete(x), "video_id"),
    uuid_arg("legacy.videos.process", lambda c, x: c.legacy.videos.process(x), "video_id"),
    uuid_arg("legacy.videos.ingest_progress",
             lambda c, x: c.legacy.videos.ingest_progress(x), "video_id"),
    uuid_arg("legacy.videos.process_progress",
             lambda c, x: c.legacy.videos.process_progress(x), "video_id"),
    text_arg("legacy.videos.create_project", lambda c, x: c.legacy.videos.create_project(x),
             "name", 255),
    uuid_arg("legacy.videos.get_project", lambda c, x: c.legacy.videos.get_project(x),
             "project_id"),
    uuid_arg("legacy.videos.delete_project", lambda c, x: c.legacy.videos.delete_project(x),
             "project_id"),
    text_arg("legacy.videos.update_project",
             lambda c, x: c.legacy.videos.update_project(V, name=x), "name", 255),
    int_arg("legacy.videos.list", lambda c, x: c.legacy.videos.list(page_size=x), "page_size",
            1, 100),
    int_arg("legacy.videos.list", lambda c, x: c.legacy.videos.list(page=x), "page_number",
            0, None),
    uuid_arg("legacy.videos.list", lambda c, x: c.legacy.videos.list(parent_id=x), "parent_id"),
    int_arg("legacy.videos.list_projects",
            lambda c, x: c.legacy.videos.list_projects(page_size=x), "page_size", 1, 100),
    text_arg("legacy.accounts.update_password",
             lambda c, x: c.legacy.accounts.update_password(x), "new_password", 1024),
    uuid_arg("legacy.accounts.create_token",
             lambda c, x: c.legacy.accounts.create_token(team_id=x), "team_id"),
    bool_arg("legacy.accounts.generate_auth_secret",
             lambda c, x: c.legacy.accounts.generate_auth_secret(use_basic=x), "use_basic"),
    Arg("legacy.jwt_auth.set_token", lambda c, x: c.legacy.jwt_auth.set_token(x), "token",
        st.one_of(st.sampled_from(["", "abc", "a.b", "a.b.c.d", "a.b.c\r\nX-Evil: 1",
                                   " a.b.c", "a b.c.d"]), st.integers(), st.none()),
        rule="compact JWT"),
    uuid_arg("legacy.media.head_original", lambda c, x: c.legacy.media.head_original(x),
             "video_id"),
    uuid_arg("legacy.media.head_processed", lambda c, x: c.legacy.media.head_processed(x),
             "video_id"),
    int_arg("legacy.media.download_original",
            lambda c, x: c.legacy.media.download_original(V, "/nonexistent/", connections=x),
            "connections", 1, 64),
    int_arg("legacy.media.download_processed",
            lambda c, x: c.legacy.media.download_processed(V, "/nonexistent/",
                                                           expected_crc32c=x),
            "expected_crc32c", 0, 2**32 - 1),
]  # fmt: skip

#: The transfer functions take any absolute http(s) URL (a pre-signed URL, a test server).
_NOT_HTTP_URL = st.one_of(
    st.sampled_from(
        [
            "ftp://example.com/v",
            "not a url",
            "",
            "   ",
            "https://",
            "/relative/v",
            "file:///etc/passwd",
            "example.com/v",
        ]
    ),
    st.integers(),
    st.none(),
)
TRANSFER_ROWS: list[Arg] = [
    Arg("download_url", lambda c, x: download_url(x, "/nonexistent/x"), "url", _NOT_HTTP_URL,
        rule="http(s) URL"),
    int_arg("download_url",
            lambda c, x: download_url("https://example.com/v", "/nonexistent/x", connections=x),
            "connections", 1, None),
    int_arg("download_url",
            lambda c, x: download_url("https://example.com/v", "/nonexistent/x", part_size=x),
            "part_size", 1, None),
    int_arg("download_url",
            lambda c, x: download_url("https://example.com/v", "/nonexistent/x",
                                      expected_crc32c=x),
            "expected_crc32c", 0, 2**32 - 1),
    Arg("download_url", lambda c, x: download_url("https://example.com/v", x), "dest",
        st.one_of(st.just(""), st.integers(), st.none())),
    Arg("download_url",
        lambda c, x: download_url("https://example.com/v", "/nonexistent/x", if_none_match=x),
        "if_none_match", st.one_of(st.just(""), st.integers(), st.text(min_size=1025,
                                                                       max_size=1030))),
    bool_arg("download_url",
             lambda c, x: download_url("https://example.com/v", "/nonexistent/x", resume=x),
             "resume"),
    # S3 multipart uploads and imports from local files: refused before the file is opened
    Arg("upload_to_s3", lambda c, x: upload_to_s3(x, "my-bucket", "k"), "path",
        st.one_of(st.just(""), st.integers(), st.none())),
    Arg("upload_to_s3", lambda c, x: upload_to_s3("/nonexistent", x, "k"), "bucket",
        st.one_of(st.just(""), st.just("a"), st.just("../b"), st.integers(), st.none())),
    Arg("upload_to_s3", lambda c, x: upload_to_s3("/nonexistent", "my-bucket", x), "object_key",
        st.one_of(st.just(""), st.text(min_size=1025, max_size=1030), st.just("a\nb"),
                  st.integers(), st.none())),
    Arg("upload_to_s3",
        lambda c, x: upload_to_s3("/nonexistent", "my-bucket", "k", part_size=x), "part_size",
        st.one_of(st.integers(max_value=5 * 2**20 - 1), st.integers(min_value=5 * 2**30 + 1),
                  st.text(max_size=3), st.booleans())),
    Arg("upload_to_s3",
        lambda c, x: upload_to_s3("/nonexistent", "my-bucket", "k", connections=x),
        "connections", st.one_of(st.integers(max_value=0), st.text(max_size=3), st.booleans())),
    text_arg("imports.from_file",
             lambda c, x: c.px.imports.from_file("/nonexistent", x, bucket=BUCKET), "name", 255),
    text_arg("imports.from_file",
             lambda c, x: c.px.imports.from_file("/nonexistent", "n", bucket=BUCKET,
                                                 object_key=x), "object_key", 1024),
    uuid_arg("imports.from_file",
             lambda c, x: c.px.imports.from_file("/nonexistent", "n", location_id=x),
             "location_id"),
    Arg("imports.from_file", lambda c, x: c.px.imports.from_file("/nonexistent", "n", bucket=x),
        "bucket", st.one_of(st.text(max_size=10), st.integers())),
    uuid_arg("imports.from_files",
             lambda c, x: c.px.imports.from_files(["/nonexistent"], location_id=x),
             "location_id"),
]  # fmt: skip

#: Public methods that take input but have no row, each with the reason.
# per-call options: with_options sends nothing, so there is no "good" side to check here
# (tests/integration/test_client_options.py sends through views)
_BAD_TIMEOUTS = st.one_of(
    st.floats(max_value=0), st.just(math.nan), st.just(math.inf), st.text(max_size=3),
    st.booleans(),
)
_BAD_HEADERS = st.sampled_from([
    {"Authorization": "Bearer x"}, {"x-api-key": "k"}, {"Cookie": "c"}, {"Host": "h"},
    {"bad name": "v"}, {"X-A": "a\r\nX-B: b"}, {"X-A": 1}, [("X-A", "1")], "X-A: 1",
])
ROWS += [
    Arg("with_options", lambda c, x: c.px.with_options(timeout=x), "timeout", _BAD_TIMEOUTS),
    Arg("with_options", lambda c, x: c.px.with_options(max_retries=x), "max_retries",
        st.one_of(_NOT_INT, st.integers(max_value=-1))),
    Arg("with_options", lambda c, x: c.px.with_options(extra_headers=x), "extra_headers",
        _BAD_HEADERS),
    Arg("with_options", lambda c, x: c.px.with_options(extra_query=x), "extra_query",
        st.sampled_from([{"": 1}, {"a": [1]}, {"a": None}, ["a"], "a=1"])),
    Arg("legacy.with_options", lambda c, x: c.legacy.with_options(timeout=x), "timeout",
        _BAD_TIMEOUTS),
    Arg("legacy.with_options", lambda c, x: c.legacy.with_options(extra_headers=x),
        "extra_headers", _BAD_HEADERS),
]  # fmt: skip

EXEMPT = {
    "exports.wait", "exports.watch", "imports.wait", "imports.wait_ingested", "imports.watch",
    "imports.watch_ingestion", "processing.wait", "processing.watch",
    "legacy.videos.wait_ingested", "legacy.videos.wait_processed",
    "legacy.videos.watch_ingestion", "legacy.videos.watch_processing",
    # pollers: their only input is a video id checked by the status call they repeat,
    # plus timeout/intervals (tests/unit/test_polling.py)
    "legacy.media.upload", "legacy.media.upload_light",
    # need a real file: tests/integration/test_legacy_media.py::test_media_input_validation
    "legacy.accounts.validate_token", "legacy.accounts.generate_signature_secret",
    # validate_token(None) is valid (the held token); use_basic as generate_auth_secret
    "legacy.request", "legacy.service_url", "legacy.accounts.url", "legacy.videos.url",
    "legacy.media.url", "px.url", "legacy.jwt_auth.on_unauthorized",
    # plumbing, not API operations (on_unauthorized is the session's 401 hook)
}  # fmt: skip


def _clients() -> Clients:
    config = ClientConfig(retry=RetryPolicy.disabled())
    px = Pixop("pxk_caller_limits_key", base_url=BASE + "/api", email="a@b.c", password="pw",
               config=config)  # fmt: skip
    legacy = PixopLegacy(email="a@b.c", password="pw", base_url=BASE, config=config)
    return Clients(px, legacy)


async def _invoke(row: Arg, value: Any) -> tuple[BaseException | None, int]:
    clients = _clients()
    try:
        with aioresponses() as mocked:
            try:
                result = row.call(clients, value)
                if inspect.isawaitable(result):
                    await result
                elif hasattr(result, "__anext__"):
                    await result.__anext__()
                error: BaseException | None = None
            except (PixopError, ValueError, TypeError) as exc:
                error = exc
            sent = sum(len(calls) for calls in mocked.requests.values())
    finally:
        await clients.px.close()
        await clients.legacy.close()
    return error, sent


def _run(row: Arg, value: Any) -> tuple[BaseException | None, int]:
    return asyncio.run(_invoke(row, value))


FAST = settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow],
    database=None, derandomize=True,
)  # fmt: skip


def _check_refused(row: Arg, value: Any) -> None:
    error, sent = _run(row, value)
    assert isinstance(error, InvalidRequestError), (row.id, value, error)
    assert sent == 0, f"{row.id}: a request left for {value!r}"
    assert error.field == row.field, (error.field, row.field)
    if row.rule:
        assert row.rule in str(error)
    assert "s3-secret-value" not in str(error) and "pxk_caller" not in str(error)


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_bad_values_are_refused_before_any_request(row: Arg) -> None:
    @FAST
    @given(value=row.bad)
    def check(value: Any) -> None:
        _check_refused(row, value)

    check()


@pytest.mark.parametrize("row", [r for r in ROWS if r.good is not None], ids=lambda r: r.id)
def test_values_inside_the_limits_pass_validation(row: Arg) -> None:
    """The other side of each boundary: the request is built and sent (and fails to connect)."""
    assert row.good is not None

    @settings(max_examples=5, deadline=None, database=None, derandomize=True)
    @given(value=row.good)
    def check(value: Any) -> None:
        error, sent = _run(row, value)
        assert not isinstance(error, InvalidRequestError), (row.id, value, error)
        # bulk methods report per-item failures instead of raising
        assert error is None or isinstance(error, APIConnectionError), (row.id, value, error)
        assert sent >= 1

    check()


@pytest.mark.parametrize("row", TRANSFER_ROWS, ids=[r.id for r in TRANSFER_ROWS])
def test_transfer_functions_refuse_bad_values_before_any_request(row: Arg) -> None:
    @FAST
    @given(value=row.bad)
    def check(value: Any) -> None:
        _check_refused(row, value)

    check()


def _public_methods() -> set[str]:
    """Every public method of the clients' resources that takes at least one argument."""
    clients = _clients()
    found: set[str] = set()

    def walk(obj: Any, prefix: str, depth: int) -> None:
        for name in dir(type(obj)):
            if name.startswith("_"):
                continue
            attr = inspect.getattr_static(type(obj), name)
            value = getattr(obj, name)
            if inspect.isfunction(attr):
                params = list(inspect.signature(value).parameters)
                if params:
                    found.add(f"{prefix}{name}")
            elif depth < 3 and type(value).__module__.startswith(
                ("pixop_async.resources", "pixop_async.legacy")
            ):
                walk(value, f"{prefix}{name}.", depth + 1)

    walk(clients.px, "", 0)
    walk(clients.legacy, "legacy.", 0)
    asyncio.run(clients.px.close())
    asyncio.run(clients.legacy.close())
    return found


def test_every_public_method_with_input_has_a_row() -> None:
    covered = {r.method for r in [*ROWS, *TRANSFER_ROWS]} | EXEMPT
    methods = _public_methods()
    assert len(methods) > 80
    missing = sorted(m for m in methods if m not in covered and f"px.{m}" not in covered)
    assert not missing, f"methods without a caller-input row: {missing}"
