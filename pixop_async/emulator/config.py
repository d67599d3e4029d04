"""Knobs of the emulator."""

from __future__ import annotations

from pathlib import Path

import attrs


@attrs.define
class EmulatorConfig:
    """How the emulator behaves.

    ``rate_limit_per_minute`` applies per API key to the current API (API-key management is
    exempt, as on Pixop). ``speed`` scales every simulated duration (2.0 runs state machines
    twice as fast). ``data_dir`` holds stored media (a temporary directory when ``None``).
    ``allow_http_sources`` accepts ``http://127.0.0.1`` URLs as import sources and as webhook
    targets, which the real service refuses; tests need it to serve sources and receive
    deliveries locally.

    ``s3_endpoint`` (e.g. moto's server) makes S3 imports and exports speak the S3 protocol
    to that endpoint with the credentials of each request, instead of using the directory
    buckets; imports then check the CRC32C of what they read against the object's
    full-object ``x-amz-checksum-crc32c``. It needs the ``[s3]`` extra (aiobotocore).
    """

    rate_limit_per_minute: int = 600
    speed: float = 1.0
    data_dir: Path | None = None
    allow_http_sources: bool = False
    #: Lifetime of JWTs issued by the legacy accounts service (15 minutes on Pixop).
    jwt_lifetime_seconds: float = 900.0
    seed_email: str = "demo@pixop.test"
    seed_password: str = "emulator-password"
    seed_user_name: str = "Emulator Demo"
    s3_endpoint: str | None = None
    s3_region: str = "us-east-1"
