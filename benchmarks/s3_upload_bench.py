"""S3 multipart upload benchmark: the SDK's engine against boto3's ``upload_file`` (s3transfer).

Both clients run as their own processes with the same concurrency and part size, one after
the other, in one run:

* against moto's S3 server (another process): client CPU seconds per GiB and peak RSS for a
  1 GiB and an 8 GiB sparse file (moto tops out near 130 MiB/s whatever the client, so its
  throughput compares nothing). Each stored object is checked: size, and the full-object
  CRC32C moto computes over the stored bytes (with the ``crc32c`` package installed) against
  the file's.
* against ``benchmarks/s3_sink.py`` (the four multipart calls, each part's CRC checked, bytes
  discarded, every connection paced with ``SO_MAX_PACING_RATE``, every answer held for a
  given latency): throughput.

CPU is the client process's own user+system time (all threads) around the upload call,
peak RSS its ``VmHWM``. boto3 gets ``payload_signing_enabled=False`` like the SDK (over
HTTPS that is botocore's default; over plain HTTP it would SHA-256 every part), and
computes its default CRC32 per part (CRC32C would need awscrt).

    python benchmarks/s3_upload_bench.py            # every acceptance ratio (~15 minutes)
    python benchmarks/s3_upload_bench.py --quick    # 256 MiB / 1 GiB against moto
    python benchmarks/s3_upload_bench.py --no-moto --sink 48:50 48:50:5 --repeat 3

Sink conditions are ``PACE[:LATENCY_MS[:PART_MIB]]``: MiB/s per connection, the time the
sink holds every answer (a far store's round trip plus its processing), the part size.
"The link's best" is ``connections x part / (part / pace + latency)``: one part per
connection at a time, as both clients do.
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
            retries={"max_attempts": 3},  # like the SDK's policy: moto may answer a 500
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
def sink(pace: int, latency: float) -> Iterator[str]:
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "s3_sink.py"), "--pace", str(pace), "--latency", str(latency)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    port = int(proc.stdout.readline().split()[1])
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        stats = json.loads(proc.stdout.read().strip().removeprefix("stats "))
        proc.wait(30)
        if stats["bad_digest"]:
            raise RuntimeError(f"the sink refused parts: {stats}")


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


def _condition(text: str) -> tuple[float, float, int]:
    """``PACE_MIB[:LATENCY_MS[:PART_MIB]]``"""
    fields = text.split(":")
    pace = float(fields[0])
    latency = float(fields[1]) / 1000 if len(fields) > 1 else 0.0
    part = int(fields[2]) if len(fields) > 2 else 8
    return pace, latency, part


def _order(rep: int) -> tuple[str, str]:
    """Interleaved: each repeat swaps which client goes first."""
    return ("sdk", "boto3") if rep % 2 == 0 else ("boto3", "sdk")


def bench_moto(
    work: Path, sizes: list[int], conns: int, part: int, repeat: int
) -> dict[tuple[str, int], dict[str, float]]:
    """Best (lowest) CPU and peak RSS of each client per file size, runs interleaved."""
    best: dict[tuple[str, int], dict[str, float]] = {}
    for size in sizes:
        path = sparse(work / f"sparse-{size}.bin", size)
        crc = local_crc(path)
        for rep in range(repeat):
            for kind in _order(rep):
                # a fresh moto per run: it keeps whole objects in memory while completing
                with moto() as endpoint:
                    bucket = "bench"
                    boto3_client(endpoint).create_bucket(Bucket=bucket)
                    key = f"{kind}-{size}"
                    out = run_child(kind, endpoint, bucket, key, path, conns, part)
                    check = check_stored(endpoint, bucket, key, size, crc)
                if kind == "sdk" and out.get("crc32c") != crc:
                    raise RuntimeError("the SDK's CRC32C differs from the file's")
                if "MISMATCH" in check:
                    raise RuntimeError(f"{kind} stored other bytes: {check}")
                print(
                    f"  moto {size / GiB:5.2f} GiB {kind:6s} cpu {out['cpu'] / (size / GiB):5.2f}"
                    f" s/GiB  peak rss {out['rss_mib']:5.1f} MiB (idle {out['idle_mib']:5.1f})"
                    f"  {size / MiB / out['elapsed']:6.1f} MiB/s  stored: {check}",
                    flush=True,
                )
                row = best.setdefault((kind, size), dict(out))
                for field in ("cpu", "rss_mib", "idle_mib", "elapsed"):
                    row[field] = min(row[field], out[field])
        path.unlink()
    return best


def bench_sink(
    path: Path, conditions: list[tuple[float, float, int]], conns: int, repeat: int
) -> dict[tuple[str, tuple[float, float, int]], float]:
    """Best throughput (MiB/s) of each client per sink condition, runs interleaved."""
    size = path.stat().st_size
    best: dict[tuple[str, tuple[float, float, int]], float] = {}
    for rep in range(repeat):
        for cond in conditions:
            pace, latency, part_mib = cond
            for kind in _order(rep):
                with sink(int(pace * MiB), latency) as endpoint:
                    out = run_child(kind, endpoint, "bench", "sink", path, conns, part_mib * MiB)
                speed = size / MiB / out["elapsed"]
                best[(kind, cond)] = max(best.get((kind, cond), 0.0), speed)
                print(
                    f"  sink {pace:g} MiB/s x {conns}, {latency * 1000:g} ms, {part_mib} MiB parts"
                    f" {kind:6s} {speed:6.1f} MiB/s  cpu {out['cpu']:5.2f} s",
                    flush=True,
                )
    return best


def ideal(pace: float, latency: float, part_mib: int, conns: int, size: int) -> float:
    """The link's best (MiB/s) for one part per connection at a time: each part takes its
    paced transfer time plus the answer's latency."""
    per_part = part_mib / pace + latency
    return conns * part_mib / per_part if size else 0.0


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
    parser.add_argument("--quick", action="store_true", help="256 MiB / 1 GiB against moto")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--part-size-mib", type=int, default=8, help="against moto")
    parser.add_argument(
        "--sink",
        nargs="+",
        default=["12", "48", "12:50", "48:50", "48:50:5", "48:80:16"],
        metavar="PACE[:LATENCY_MS[:PART_MIB]]",
        help="sink conditions: MiB/s per connection, ms before each answer, part size",
    )
    parser.add_argument("--sink-gib", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=2, help="runs per case (best kept)")
    parser.add_argument("--no-moto", action="store_true")
    parser.add_argument("--no-sink", action="store_true")
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
    conditions = [_condition(text) for text in args.sink]
    print(f"{conns} connections, both clients, best of {args.repeat} interleaved runs")
    moto_rows: dict[tuple[str, int], dict[str, float]] = {}
    speeds: dict[tuple[str, tuple[float, float, int]], float] = {}
    sink_size = int(args.sink_gib * GiB)
    with tempfile.TemporaryDirectory(prefix="pixop-s3bench-") as tmp:
        work = Path(tmp)
        if not args.no_moto:
            print(f"moto, {args.part_size_mib} MiB parts:")
            moto_rows = bench_moto(work, sizes, conns, part, args.repeat)
        if not args.no_sink:
            path = work / "sink.bin"
            with path.open("wb") as handle:
                block = os.urandom(64 * MiB)
                for _ in range(max(1, sink_size // len(block))):
                    handle.write(block)
            print("paced sink (random bytes, every part's CRC checked):")
            speeds = bench_sink(path, conditions, conns, args.repeat)
    print("\nacceptance (SDK / s3transfer)")
    for size in sizes if moto_rows else []:
        sdk, b3 = moto_rows[("sdk", size)], moto_rows[("boto3", size)]
        gib = size / GiB
        cpu_ratio = sdk["cpu"] / b3["cpu"]
        rss_ratio = sdk["rss_mib"] / b3["rss_mib"]
        print(
            f"  moto {gib:g} GiB: CPU s/GiB {sdk['cpu'] / gib:.2f} vs {b3['cpu'] / gib:.2f} ="
            f" {cpu_ratio:.2f}x (<= 1: {'PASS' if cpu_ratio <= 1 else 'FAIL'});"
            f" peak RSS {sdk['rss_mib']:.1f} vs {b3['rss_mib']:.1f} MiB = {rss_ratio:.2f}x"
            f" (<= 1: {'PASS' if rss_ratio <= 1 else 'FAIL'}); before the upload"
            f" {sdk['idle_mib']:.1f} vs {b3['idle_mib']:.1f}, growth"
            f" {sdk['rss_mib'] - sdk['idle_mib']:.1f} vs {b3['rss_mib'] - b3['idle_mib']:.1f}"
        )
    if moto_rows:
        small, large = sizes
        flat = moto_rows[("sdk", large)]["rss_mib"] / moto_rows[("sdk", small)]["rss_mib"]
        print(
            f"  SDK peak RSS {large / GiB:g} GiB / {small / GiB:g} GiB = {flat:.3f}"
            f" (within 10%: {'PASS' if abs(flat - 1) <= 0.10 else 'FAIL'})"
        )
    for cond in conditions if speeds else []:
        pace, latency, part_mib = cond
        sdk_speed, b3_speed = speeds[("sdk", cond)], speeds[("boto3", cond)]
        ratio = sdk_speed / b3_speed
        top = ideal(pace, latency, part_mib, conns, sink_size)
        print(
            f"  sink {pace:g} MiB/s x {conns}, {latency * 1000:g} ms per answer,"
            f" {part_mib} MiB parts: {sdk_speed:.1f} vs {b3_speed:.1f} MiB/s = {ratio:.2f}x"
            f" (>= 1.1: {'PASS' if ratio >= 1.1 else 'FAIL'}); of the link's best"
            f" {top:.0f} MiB/s: SDK {sdk_speed / top:.0%}, s3transfer {b3_speed / top:.0%}"
            f" (1.1x possible: {'yes' if b3_speed * 1.1 <= top else 'no'})"
        )


if __name__ == "__main__":
    main()
