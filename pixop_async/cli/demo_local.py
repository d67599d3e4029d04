"""The local-file leg of ``pixop demo``: upload a file to S3 and import it.

It needs an S3 store on this machine: with the ``[s3]`` extra and moto's server installed,
a moto S3 server is started on a free loopback port and a second emulator is pointed at it
(``EmulatorConfig.s3_endpoint``), so the import reads the object over the real S3 protocol
and checks its CRC32C. Otherwise the leg is skipped with one line saying why.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rich.markup import escape

from ..client import Pixop
from ..emulator import EmulatorConfig, EmulatorServer
from ..models.locations import S3BucketWithAccessKeys
from ..transfer.s3_client import (
    S3Connection,
    S3ExtraMissingError,
    open_client,
    require_aiobotocore,
)
from .bars import byte_callback, transfer_progress
from .common import console
from .support import hex_crc, human_size


def missing_requirement() -> str | None:
    """Why the leg cannot run here, or ``None`` when it can. The modules are imported, not
    just looked up: an installed aiobotocore that cannot import (a botocore or aiohttp it
    does not fit) must skip the leg too, not fail the demo at its end."""
    try:
        require_aiobotocore()
    except S3ExtraMissingError:
        return "the [s3] extra (pip install 'pixop-async[s3]')"
    try:
        importlib.import_module("moto.server")
    except ImportError:
        return "moto[server] for a local S3 store (pip install 'moto[server]')"
    return None


@contextlib.contextmanager
def _moto() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no per-request lines
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()


async def local_file_step(sample: Path, speed: float) -> dict[str, Any]:
    """Upload ``sample`` by S3 multipart upload and import it into a fresh emulator; returns
    the leg's summary (``{"skipped": why}`` when it cannot run here)."""
    console.rule("[bold]local file[/] - S3 multipart upload, then import from S3")
    missing = missing_requirement()
    if missing is not None:
        console.print(f"[yellow]local-file leg skipped:[/] it needs {escape(missing)}")
        return {"skipped": f"needs {missing}"}
    access_key, secret = "AKIADEMO" + secrets.token_hex(6).upper(), secrets.token_urlsafe(24)
    with _moto() as endpoint:
        conn = S3Connection(endpoint_url=endpoint, access_key=access_key, secret_access_key=secret)
        bucket = "demo-masters"
        async with open_client(conn, 1) as s3:
            await s3.create_bucket(Bucket=bucket)
        config = EmulatorConfig(speed=speed, s3_endpoint=endpoint)
        async with (
            EmulatorServer(config) as emu,
            Pixop(emu.api_key, base_url=emu.base_url) as px,
        ):
            with transfer_progress(console) as progress:
                task = progress.add_task("upload to S3", total=None)
                done = await px.imports.from_file(
                    sample,
                    "Sunset (from a local file)",
                    bucket=S3BucketWithAccessKeys(bucket, access_key, secret),
                    object_key=f"masters/{sample.name}",
                    s3=S3Connection(endpoint_url=endpoint),
                    wait=True,
                    timeout=120,
                    progress=byte_callback(progress, task),
                )
    upload = done.upload
    console.print(
        f"uploaded {human_size(upload.size)} to s3://{upload.bucket}/{upload.key} in "
        f"{len(upload.parts)} parts ({upload.checksum_type} CRC32C {hex_crc(upload.crc32c)})"
    )
    state = "[green]matches[/]" if done.verified else "[yellow]not checked[/]"
    console.print(f"imported as video {done.video_id}: Pixop's CRC32C {state}")
    return {
        "video_id": str(done.video_id),
        "s3_url": f"s3://{upload.bucket}/{upload.key}",
        "size": upload.size,
        "parts": len(upload.parts),
        "crc32c": hex_crc(upload.crc32c),
        "verified": bool(done.verified),
    }
