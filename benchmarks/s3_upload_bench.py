"""S3 multipart upload benchmark: the SDK's engine against boto3's ``upload_file`` (s3transfer).

Both clients run as their own processes with the same concurrency and part size, one after
the other, in one run:

* against moto's S3 server (another process): client CPU seconds per GiB and peak RSS for a
  1 GiB and an 8 GiB sparse file (moto tops out near 130 MiB/s whatever the client, so its
  throughput compares nothing). Each stored object is checked: size, and the full-object
  CRC32C moto computes over the stored bytes (with the ``crc32c`` package installed) against
  the file's.
* against ``benchmarks/s3_sink.py`` (the four multipart calls, each part's CRC checked, bytes
  discarded, every connection paced with ``SO_MAX_PACING_RATE``): throughput.

CPU is the client process's own user+system time (all threads) around the upload call,
peak RSS its ``VmHWM``. boto3 gets ``payload_signing_enabled=False`` like the SDK (over
HTTPS that is botocore's default; over plain HTTP it would SHA-256 every part), and
computes its default CRC32 per part (CRC32C would need awscrt).

    python benchmarks/s3_upload_bench.py --quick   # 256 MiB / 1 GiB, about two minutes
    python benchmarks/s3_upload_bench.py           # 1 GiB / 8 GiB (sparse files under /tmp)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
MiB = 1024 * 1024
GiB = 1024 * MiB
KEY_ID, SECRET = "AKIABENCH0000000001", "bench-secret-key"


def _vm_hwm_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# -- child processes ------------------------------------------------------------------------


def child_sdk(args: argparse.Namespace) -> dict[str, object]:
    from pixop_async import S3Connection, TransferConfig, upload_to_s3
    from pixop_async.transfer.s3_client import open_client

    config = TransferConfig(
        connections=args.connections, max_connections=args.connections, fsync=False
    )
    conn = S3Connection(endpoint_url=args.endpoint, access_key=KEY_ID, secret_access_key=SECRET)

    async def go() -> dict[str, object]:
        result = await upload_to_s3(
            args.file,
            args.bucket,
            args.key,
            s3=conn,
            part_size=args.part_size,
            config=config,
            resume=False,
        )
        return {"crc32c": result.crc32c, "parts": len(result.parts)}

    async def warm_up() -> None:  # like boto3.client(): the service model is loaded first
        async with open_client(conn, 1):
            pass

    asyncio.run(warm_up())
    idle = _vm_hwm_mib()
    cpu, started = _cpu(), time.monotonic()
    out = asyncio.run(go())
    return {**out, "elapsed": time.monotonic() - started, "cpu": _cpu() - cpu, "idle_mib": idle}


def child_boto3(args: argparse.Namespace) -> dict[str, object]:
    import boto3
    from boto3.s3.transfer import TransferConfig
    from botocore.config import Config

    client = boto3.client(
        "s3",
        endpoint_url=args.endpoint,
        aws_access_key_id=KEY_ID,
        aws_secret_access_key=SECRET,
        region_name="us-east-1",
        config=Config(
            max_pool_connections=args.connections,
            s3={"payload_signing_enabled": False, "addressing_style": "path"},
            retries={"max_attempts": 1},
        ),
    )
    config = TransferConfig(
        multipart_threshold=args.part_size,
        multipart_chunksize=args.part_size,
        max_concurrency=args.connections,
        use_threads=True,
    )
    idle = _vm_hwm_mib()
    cpu, started = _cpu(), time.monotonic()
    client.upload_file(args.file, args.bucket, args.key, Config=config)
    return {"elapsed": time.monotonic() - started, "cpu": _cpu() - cpu, "idle_mib": idle}


def _lean_moto_checksums() -> None:
    """Make moto compute a FULL_OBJECT CRC32C part by part over the stored bytes instead of
    concatenating the whole object twice more in memory (24 GiB for an 8 GiB upload). The
    value is still the CRC32C of the bytes moto stored; only the server's memory changes."""
    import base64

    import google_crc32c
    from moto.s3 import models

    base = models.MultipartChecksumBuilder

    class Lean(base):  # type: ignore[misc, valid-type]
        def _lean(self) -> bool:
            return bool(self.checksum_type == "FULL_OBJECT" and self.checksum_algorithm == "CRC32C")

        def addPart(self, part: bytes) -> None:
            if not self._lean():
                return super().addPart(part)
            self.crc = google_crc32c.extend(getattr(self, "crc", 0), part)
            self.part_count += 1
            return None

        def build(self) -> tuple[str, str, int] | None:
            if not self._lean():
                return super().build()
            value = int(getattr(self, "crc", 0)).to_bytes(4, "big")
            return self.checksum_type, base64.b64encode(value).decode(), 1

    models.MultipartChecksumBuilder = Lean  # type: ignore[misc]


def child_moto(args: argparse.Namespace) -> None:
    import logging

    from moto.server import ThreadedMotoServer

    _lean_moto_checksums()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=args.port, verbose=False)
    server.start()
    print("ready", flush=True)
    sys.stdin.read()  # until the parent closes our stdin
    server.stop()


# -- the parent -----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def moto() -> Iterator[str]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, __file__, "moto", "--port", str(port)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None and proc.stdin is not None
    proc.stdout.readline()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.stdin.close()
        proc.wait(30)


@contextmanager
def sink(pace: int) -> Iterator[str]:
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "s3_sink.py"), "--pace", str(pace)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    port = int(proc.stdout.readline().split()[1])
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        stats = proc.stdout.read()
        proc.wait(30)
        print("  sink:", stats.strip().removeprefix("stats "))


def run_child(
    kind: str, endpoint: str, bucket: str, key: str, path: Path, conns: int, part: int
) -> dict[str, float]:
    cmd = [
        sys.executable,
        __file__,
        "child",
        kind,
        "--endpoint",
        endpoint,
        "--bucket",
        bucket,
        "--key",
        key,
        "--file",
        str(path),
        "--connections",
        str(conns),
        "--part-size",
        str(part),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{kind} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def boto3_client(endpoint: str):  # type: ignore[no-untyped-def]
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=KEY_ID,
        aws_secret_access_key=SECRET,
        region_name="us-east-1",
    )


def sparse(path: Path, size: int) -> Path:
    with path.open("wb") as handle:
        handle.truncate(size)
    return path


def local_crc(path: Path) -> int:
    from pixop_async.transfer.checksum import crc32c_file

    return asyncio.run(crc32c_file(path))


def check_stored(endpoint: str, bucket: str, key: str, size: int, crc: int) -> str:
    from pixop_async.transfer.s3_plan import decode_crc32c

    head = boto3_client(endpoint).head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    if head["ContentLength"] != size:
        return f"SIZE MISMATCH {head['ContentLength']}"
    stored = head.get("ChecksumCRC32C")
    if stored is None:
        return "size ok (no CRC32C stored)"
    return "size+CRC32C ok" if decode_crc32c(stored) == crc else f"CRC32C MISMATCH {stored}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="mode")
    child = sub.add_parser("child")
    child.add_argument("kind", choices=["sdk", "boto3"])
    for flag in ("--endpoint", "--bucket", "--key", "--file"):
        child.add_argument(flag, required=True)
    child.add_argument("--connections", type=int, required=True)
    child.add_argument("--part-size", type=int, required=True)
    moto_p = sub.add_parser("moto")
    moto_p.add_argument("--port", type=int, required=True)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--part-size-mib", type=int, default=8)
    parser.add_argument(
        "--pace-mib", type=float, nargs="+", default=[12.0, 48.0], help="per connection, sink"
    )
    parser.add_argument("--sink-gib", type=float, default=1.0)
    args = parser.parse_args()
    if args.mode == "child":
        runner = child_sdk if args.kind == "sdk" else child_boto3
        out = runner(args)
        print(json.dumps({**out, "rss_mib": _vm_hwm_mib()}))
        return
    if args.mode == "moto":
        child_moto(args)
        return
    conns, part = args.connections, args.part_size_mib * MiB
    sizes = [256 * MiB, 1 * GiB] if args.quick else [1 * GiB, 8 * GiB]
    print(f"connections {conns}, part size {args.part_size_mib} MiB, both clients")
    rows: dict[tuple[str, int], dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="pixop-s3bench-") as tmp:
        work = Path(tmp)
        for size in sizes:
            path = sparse(work / f"sparse-{size}.bin", size)
            crc = local_crc(path)
            for kind in ("sdk", "boto3"):
                # a fresh moto per run: it keeps whole objects in memory while completing
                with moto() as endpoint:
                    bucket = "bench"
                    boto3_client(endpoint).create_bucket(Bucket=bucket)
                    key = f"{kind}-{size}"
                    out = run_child(kind, endpoint, bucket, key, path, conns, part)
                    check = check_stored(endpoint, bucket, key, size, crc)
                if kind == "sdk" and out.get("crc32c") != crc:
                    check += " (SDK CRC differs!)"
                rows[(kind, size)] = out
                print(
                    f"moto {size / GiB:5.2f} GiB {kind:6s} cpu {out['cpu'] / (size / GiB):6.2f}"
                    f" s/GiB  rss {out['rss_mib']:6.1f} MiB (idle {out['idle_mib']:5.1f}, upload"
                    f" +{out['rss_mib'] - out['idle_mib']:4.1f})"
                    f"  {size / MiB / out['elapsed']:6.1f}"
                    f" MiB/s  stored: {check}",
                    flush=True,
                )
            path.unlink()
        sink_size = int(args.sink_gib * GiB)
        path = work / "sink.bin"
        with path.open("wb") as handle:
            block = os.urandom(64 * MiB)
            for _ in range(sink_size // len(block)):
                handle.write(block)
        speeds: dict[tuple[str, float], float] = {}
        for pace_mib in args.pace_mib:
            for kind in ("sdk", "boto3"):
                with sink(int(pace_mib * MiB)) as endpoint:
                    out = run_child(kind, endpoint, "bench", "sink", path, conns, part)
                speeds[(kind, pace_mib)] = path.stat().st_size / MiB / out["elapsed"]
                print(
                    f"sink {sink_size / GiB:.2f} GiB {kind:6s} {speeds[(kind, pace_mib)]:6.1f}"
                    f" MiB/s (pace {pace_mib} MiB/s x {conns} connections ="
                    f" {pace_mib * conns:.0f} MiB/s ideal)",
                    flush=True,
                )
    small, large = sizes
    print("\nacceptance")
    for pace_mib in args.pace_mib:
        ratio = speeds[("sdk", pace_mib)] / speeds[("boto3", pace_mib)]
        print(
            f"  sink at {pace_mib} MiB/s per connection: SDK/s3transfer {ratio:.2f}x "
            f"(target >= 1.1: {'PASS' if ratio >= 1.1 else 'FAIL'}); s3transfer reaches "
            f"{speeds[('boto3', pace_mib)] / (pace_mib * conns):.0%} of the pacing cap"
        )
    for size in sizes:
        sdk, b3 = rows[("sdk", size)], rows[("boto3", size)]
        cpu_ok = sdk["cpu"] <= b3["cpu"]
        print(
            f"  {size / GiB:.2f} GiB CPU s/GiB SDK {sdk['cpu'] / (size / GiB):.2f} vs s3transfer "
            f"{b3['cpu'] / (size / GiB):.2f}: {'PASS' if cpu_ok else 'FAIL'}; peak RSS "
            f"{sdk['rss_mib']:.1f} vs {b3['rss_mib']:.1f} MiB: "
            f"{'PASS' if sdk['rss_mib'] <= b3['rss_mib'] else 'FAIL'} (growth during the "
            f"upload {sdk['rss_mib'] - sdk['idle_mib']:.1f} vs "
            f"{b3['rss_mib'] - b3['idle_mib']:.1f})"
        )
    flat = rows[("sdk", large)]["rss_mib"] / rows[("sdk", small)]["rss_mib"]
    print(
        f"  SDK peak RSS {large / GiB:.0f} GiB / {small / GiB:.2f} GiB = {flat:.3f} "
        f"(within 10%: {'PASS' if abs(flat - 1) <= 0.10 else 'FAIL'})"
    )


if __name__ == "__main__":
    main()
