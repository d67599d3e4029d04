"""A real S3 server for tests: moto's ``ThreadedMotoServer`` on a free 127.0.0.1 port.

Session-scoped (one server for the run); tests use their own bucket names. Skipped when the
``[s3]`` extra or moto is not installed.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import attrs
import pytest

ACCESS_KEY = "AKIAMOTOTESTKEY00001"
SECRET_KEY = "moto-secret-key-never-logged-0001"


@attrs.frozen
class MotoS3:
    endpoint: str
    access_key: str = ACCESS_KEY
    secret_key: str = attrs.field(default=SECRET_KEY, repr=False)

    def boto3(self):  # type: ignore[no-untyped-def]
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name="us-east-1",
        )

    def new_bucket(self) -> str:
        name = f"test-{uuid.uuid4().hex[:12]}"
        self.boto3().create_bucket(Bucket=name)
        return name

    def connection(self, endpoint: str | None = None):  # type: ignore[no-untyped-def]
        from pixop_async.transfer.s3_client import S3Connection

        return S3Connection(
            endpoint_url=endpoint or self.endpoint,
            access_key=self.access_key,
            secret_access_key=self.secret_key,
        )


@pytest.fixture(scope="session")
def moto_s3() -> Iterator[MotoS3]:
    pytest.importorskip("aiobotocore")
    server_mod = pytest.importorskip("moto.server")
    os.environ.setdefault("MOTO_ALLOW_NONEXISTENT_REGION", "true")
    server = server_mod.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield MotoS3(f"http://{host}:{port}")
    finally:
        server.stop()
