"""``kill -9`` halfway through an S3 upload, then rerun: only the missing parts are sent."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from pixop_async import upload_to_s3
from pixop_async.transfer import s3_journal as sj
from pixop_async.transfer.checksum import crc32c
from pixop_async.transfer.s3_plan import MIN_PART_SIZE
from tests.s3_fixtures import MotoS3
from tests.s3_proxy import fault_proxy

pytest.importorskip("aiobotocore")

PART = MIN_PART_SIZE
PARTS = 10
CHILD = """
import asyncio, sys
from pixop_async import S3Connection, TransferConfig, upload_to_s3

async def main():
    endpoint, key_id, secret, bucket, source = sys.argv[1:6]
    config = TransferConfig(connections=2, bandwidth_limit=2 * int(sys.argv[6]),
                            journal_interval=0.05)
    await upload_to_s3(source, bucket, "master.mov", part_size=int(sys.argv[6]), config=config,
                       s3=S3Connection(endpoint_url=endpoint, access_key=key_id,
                                       secret_access_key=secret))

asyncio.run(main())
"""


async def test_kill_9_at_half_then_rerun_sends_only_missing_parts(
    moto_s3: MotoS3, tmp_path: Path
) -> None:
    bucket = moto_s3.new_bucket()
    data = os.urandom(PARTS * PART)
    source = tmp_path / "master.mov"
    source.write_bytes(data)
    async with fault_proxy(moto_s3.endpoint) as (url, proxy):
        conn = moto_s3.connection(url)
        journal_file = sj.journal_path(source, conn.identity(), bucket, "master.mov")
        child = await asyncio.create_subprocess_exec(
            sys.executable, "-c", CHILD, url, moto_s3.access_key, moto_s3.secret_key,
            bucket, str(source), str(PART),
            env={**os.environ, "PYTHONPATH": os.getcwd()},
        )
        try:
            saved = None
            for _ in range(3000):
                await asyncio.sleep(0.01)
                saved = sj.load(journal_file) if journal_file.exists() else None
                if saved is not None and len(saved.parts) >= PARTS // 2:
                    break
            assert child.returncode is None, "the child finished before it could be killed"
            os.kill(child.pid, signal.SIGKILL)
            assert await child.wait() == -signal.SIGKILL
        finally:
            if child.returncode is None:
                child.kill()
                await child.wait()
        saved = sj.load(journal_file)
        assert saved is not None and PARTS // 2 <= len(saved.parts) < PARTS
        await asyncio.sleep(0.2)  # requests of the dead child finish in the proxy
        proxy.part_puts.clear()
        result = await upload_to_s3(source, bucket, "master.mov", s3=conn, part_size=PART)
    sent = sum(proxy.part_puts.values())
    print(f"journaled at kill {len(saved.parts)}, resumed {result.parts_resumed}, sent {sent}")
    assert result.parts_resumed >= len(saved.parts)  # parts stored after the last save count too
    assert sent == result.parts_sent == PARTS - result.parts_resumed
    assert sent <= PARTS - PARTS // 2
    assert not set(proxy.part_puts) & set(saved.parts), "a journaled part was sent again"
    stored = moto_s3.boto3().get_object(Bucket=bucket, Key="master.mov")["Body"].read()
    assert len(stored) == len(data) and crc32c(stored) == crc32c(data) == result.crc32c
    assert not journal_file.exists()
