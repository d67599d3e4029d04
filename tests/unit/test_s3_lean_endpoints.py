"""The S3 client's session keeps only S3's (and credential services') botocore endpoint data,
and resolves S3 exactly as botocore's full data does."""

from __future__ import annotations

import pytest

pytest.importorskip("aiobotocore")

from botocore.loaders import create_loader
from botocore.regions import EndpointResolver

from pixop_async.transfer import s3_client


def test_lean_data_resolves_s3_like_the_full_data() -> None:
    full = create_loader().load_data("endpoints")
    lean = s3_client._lean_endpoint_data(full)
    assert len(lean["partitions"]) == len(full["partitions"])
    for partition in lean["partitions"]:
        assert set(partition["services"]) <= s3_client._ENDPOINT_SERVICES
        assert "s3" in partition["services"] or partition["partition"] != "aws"
    full_resolver, lean_resolver = EndpointResolver(full), EndpointResolver(lean)
    regions = ["us-east-1", "eu-west-1", "ap-southeast-2", "cn-north-1", "us-gov-west-1"]
    for region in regions:
        for fips in (False, True):
            expected = full_resolver.construct_endpoint("s3", region, use_fips_endpoint=fips)
            got = lean_resolver.construct_endpoint("s3", region, use_fips_endpoint=fips)
            assert got == expected, (region, fips)
        assert lean_resolver.construct_endpoint("sts", region) == full_resolver.construct_endpoint(
            "sts", region
        )
    assert full_resolver.get_available_endpoints("s3") == lean_resolver.get_available_endpoints(
        "s3"
    )
    # the full data stays untouched (the loader may share it)
    assert len(full["partitions"][0]["services"]) > len(s3_client._ENDPOINT_SERVICES)


def test_the_upload_session_uses_the_lean_resolver(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(s3_client, "_SESSION", [])
    session = s3_client._session()
    resolver = session._get_internal_component("endpoint_resolver")
    services = set()
    for partition in resolver._endpoint_data["partitions"]:
        services.update(partition["services"])
    assert "s3" in services and services <= s3_client._ENDPOINT_SERVICES
    assert resolver.construct_endpoint("s3", "eu-west-1")["hostname"].endswith("amazonaws.com")
