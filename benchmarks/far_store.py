"""Far-object-store cases of the transfer benchmark (issue 12).

Every case runs the SDK, aria2c and (where it applies) curl against ``objstore_server.py``,
which paces each TCP connection in the kernel and delays every first byte. The tools take
turns (interleaved) and each keeps its best of ``repeat`` runs, since the machine is noisy.

    python benchmarks/transfer_bench.py --far-only            # these cases alone
    python benchmarks/transfer_bench.py --far-only --quick    # smaller files, one repeat
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from transfer_bench import Bench, Run

HERE = Path(__file__).resolve().parent
MiB = 1024 * 1024


@contextmanager
def far_store(root: Path, rate: int, latency_ms: float) -> Iterator[str]:
    """Start ``objstore_server.py`` on a free loopback port and yield its base URL."""
    cmd = [
        sys.executable,
        str(HERE / "objstore_server.py"),
        "--root",
        str(root),
        "--rate",
        str(rate),
        "--latency",
        str(latency_ms),
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if not line.startswith("ready "):
        proc.kill()
        raise RuntimeError(f"object store did not start: {line!r}")
    try:
        yield line.split(" ", 1)[1]
    finally:
        proc.terminate()
        proc.wait()


def best_of(repeat: int, runners: dict[str, Callable[[], Run]]) -> dict[str, Run]:
    """Run each tool ``repeat`` times, interleaved; keep each tool's fastest run."""
    best: dict[str, Run] = {}
    for _ in range(repeat):
        for name, runner in runners.items():
            run = runner()
            if name not in best or run.transfer < best[name].transfer:
                best[name] = run
    return best


def curl_split(bench: Bench, url: str, size: int, parts: int) -> Run:
    """``parts`` plain ``curl -r`` processes, one slice each: the ceiling of the link."""
    from transfer_bench import Run

    bench.clean()
    step = -(-size // parts)
    started = time.monotonic()
    procs = [
        subprocess.Popen(
            [
                "curl",
                "-s",
                "-f",
                "-r",
                f"{i * step}-{min(size, (i + 1) * step) - 1}",
                "-o",
                str(bench.out / f"slice{i}"),
                url,
            ]
        )
        for i in range(parts)
    ]
    for proc in procs:
        if proc.wait() != 0:
            raise RuntimeError("curl -r failed")
    return Run(time.monotonic() - started, 0.0, 0.0, {})


def curl_keepalive(bench: Bench, urls: list[str], parts: int) -> Run:
    """``parts`` curl processes, each fetching its share of ``urls`` one after another over
    one keep-alive connection (a static split, no client work): what the link allows when
    every file is fetched whole, one request per file."""
    from transfer_bench import Run

    bench.clean()
    started = time.monotonic()
    procs = []
    for share in range(parts):
        args = ["curl", "-s", "-f"]
        for i in range(share, len(urls), parts):
            args += ["-o", str(bench.out / f"f{i:05d}"), urls[i]]
        procs.append(subprocess.Popen(args))
    if any(proc.wait() != 0 for proc in procs):
        raise RuntimeError("curl keep-alive fetch failed")
    return Run(time.monotonic() - started, 0.0, 0.0, {})


def whole_file_estimate(files: int, size: int, conns: int, rate: int, latency_ms: float) -> float:
    """Seconds the busiest of ``conns`` paced connections needs when every file is one
    request (first byte + body at the paced rate) and files are dealt out evenly. An
    estimate, not a bound: the kernel lets a connection's first bytes out ahead of the pace."""
    per_file = latency_ms / 1000 + size / rate
    return -(-files // conns) * per_file


def run_far(bench: Bench, root: Path, quick: bool, repeat: int) -> None:
    """The issue's table: one big file at 8 and 16 connections, and 200 small files."""
    from transfer_bench import make_file, verdict

    big = 128 * MiB if quick else 512 * MiB
    make_file(root / "far.bin", big)
    small_dir = root / "farsmall"
    small_dir.mkdir(exist_ok=True)
    for i in range(200):
        (small_dir / f"s{i:03d}.bin").write_bytes(bytes([i % 251]) * MiB)
    settings = [(25, 30.0)] if quick else [(25, 30.0), (25, 80.0), (10, 30.0), (50, 10.0)]
    for rate_mib, latency in settings:
        rate = rate_mib * MiB
        with far_store(root, rate, latency) as base:
            label = f"far store {rate_mib} MiB/s/conn, {latency:.0f} ms"
            url = f"{base}/far.bin"
            for conns in (8, 16):
                best = best_of(
                    repeat,
                    {
                        "sdk": partial(bench.sdk, url, conns),
                        "aria2c": partial(bench.aria2, url, conns),
                        "curl -r": partial(curl_split, bench, url, big, conns),
                    },
                )
                ideal = conns * rate / MiB
                sdk_rate = big / MiB / best["sdk"].transfer
                vs_aria = best["aria2c"].transfer / best["sdk"].transfer
                # the targets hold for 25 MiB/s and 30 ms; other settings: no regression
                target = (rate_mib, latency) == (25, 30.0)
                bench.row(
                    f"{label}: {big // MiB} MiB, {conns} conns, SDK",
                    f"{sdk_rate:.0f} MiB/s = {sdk_rate / ideal:.2f} x ideal",
                    verdict(sdk_rate / ideal >= 0.95) if target and conns == 8 else "",
                )
                bench.row(
                    "   SDK vs aria2c / vs curl -r slices",
                    f"{vs_aria:.2f}x / {best['curl -r'].transfer / best['sdk'].transfer:.2f}x",
                    verdict(vs_aria >= (1.1 if conns == 8 else 1.2)) if target else "",
                )
            listing = bench.work / "far-list.txt"
            urls = [f"{base}/farsmall/s{i:03d}.bin" for i in range(200)]
            listing.write_text("".join(f"{u}\n" for u in urls), encoding="utf-8")
            best = best_of(
                repeat,
                {
                    "sdk": partial(bench.sdk_many, listing, 16),
                    "aria2c": partial(bench.aria2_many, listing, 16),
                    "curl": partial(curl_keepalive, bench, urls, 16),
                },
            )
            sdk, aria, curl = (best[k].transfer for k in ("sdk", "aria2c", "curl"))
            bench.row(
                f"{label}: 200 x 1 MiB, 16 conns, download_many vs aria2c -j16",
                f"{sdk:.2f} s vs {aria:.2f} s = {aria / sdk:.2f}x",
            )
            estimate = whole_file_estimate(200, MiB, 16, rate, latency)
            bench.row(
                "   SDK vs 16 x curl keep-alive (static split); estimate",
                f"{curl / sdk:.2f}x ({curl:.2f} s); {estimate:.2f} s",
            )
