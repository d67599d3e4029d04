"""S3Connection refuses endpoints and regions botocore would misuse, before any I/O.

An endpoint URL with ``user:password@`` used to be kept as given: shown in the repr and
written into every upload journal as the store's identity."""

from __future__ import annotations

import pytest

from pixop_async.errors import InvalidRequestError
from pixop_async.transfer.s3_client import S3Connection


@pytest.mark.parametrize(
    ("url", "rule"),
    [
        ("http://AKIAUSER:topsecret@127.0.0.1:9000", "credentials"),
        ("https://user@s3.example.com", "credentials"),
        ("ftp://s3.example.com", "http:// or https://"),
        ("not a url", "http:// or https://"),
        ("http://s3.example.com/?x-id=1", "query"),
        ("http://s3.example.com/#f", "query"),
        ("http://s3.example.com:99999", "valid URL"),
        ("http://s3.exa mple.com", "whitespace"),
    ],
)
def test_bad_endpoint_urls_are_refused_naming_the_field(url: str, rule: str) -> None:
    with pytest.raises(InvalidRequestError) as info:
        S3Connection(endpoint_url=url, access_key="AKIAX", secret_access_key="s")
    assert info.value.field == "endpoint_url" and rule in info.value.rule
    assert "topsecret" not in str(info.value)


@pytest.mark.parametrize("region", ["eu west 1", "eu-west-1/", "-eu", "x" * 64, "eu\n1", ""])
def test_bad_regions_are_refused_naming_the_field(region: str) -> None:
    with pytest.raises(InvalidRequestError) as info:
        S3Connection(region=region)
    assert info.value.field == "region"


@pytest.mark.parametrize(
    ("url", "region"),
    [
        (None, None),
        ("http://127.0.0.1:9000", "garage"),
        ("https://acct.r2.cloudflarestorage.com", "auto"),
        ("https://s3.fr-par.scw.cloud/", "fr-par"),
        ("http://[::1]:9000/prefix", "us-east-1"),
        (None, "ap-southeast-7"),
    ],
)
def test_usual_stores_and_regions_are_accepted(url: str | None, region: str | None) -> None:
    conn = S3Connection(endpoint_url=url, region=region)
    assert conn.identity() == (url or f"aws:{region or ''}")


def test_cli_empty_endpoint_variable_means_aws_not_a_bad_url(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import argparse

    from pixop_async.cli import import_file_cmd

    monkeypatch.setenv(import_file_cmd.ENDPOINT_ENV, "")
    args = argparse.Namespace(
        endpoint_url=None, region=None, access_key="AKIAX", secret_access_key="s"
    )
    assert import_file_cmd._connection(args).endpoint_url is None
    monkeypatch.setenv(import_file_cmd.ENDPOINT_ENV, "http://k:v@127.0.0.1:1")
    with pytest.raises(InvalidRequestError, match="endpoint_url"):
        import_file_cmd._connection(args)
