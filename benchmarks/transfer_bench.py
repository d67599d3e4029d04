"""Transfer benchmark: the SDK's download engine against aria2c and curl, same files, same run.

Uncapped files are served by nginx when it is installed (``sendfile``), else by the
emulator's media serving in a subprocess; capped runs use the emulator, whose rate limit
applies per TCP connection (nginx's ``limit_rate`` is per response with a one-second head
start, which favours clients that make many short requests). Every client
runs as its own process so wall time, CPU seconds and peak RSS come from ``wait4``.

    python benchmarks/transfer_bench.py --quick     # about a minute; smaller files
    python benchmarks/transfer_bench.py             # the sizes of the issue (several GiB in /tmp)

Prints one table of measurements and ratios against the targets. Temporary files live
under ``/tmp/pixop-bench-*`` and are deleted at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import attrs
from _tools import aria2_command, aria2_many_command
from far_store import run_far

HERE = Path(__file__).resolve().parent
MiB = 1024 * 1024
GiB = 1024 * MiB
CAP = 25 * MiB  # per-connection cap of the capped runs


@attrs.frozen
class Run:
    elapsed: float
    cpu: float
    rss_mib: float
    out: dict[str, object]

    @property
    def transfer(self) -> float:
        """The SDK's own measurement (no interpreter start-up); wall time for other tools."""
        value = self.out.get("elapsed")
        return float(value) if isinstance(value, int | float) else self.elapsed


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def measure(cmd: list[str], *, kill_when: float | None = None, size: int = 0) -> Run:
    """Run ``cmd``; with ``kill_when`` SIGKILL it once its progress passes that fraction."""
    with tempfile.TemporaryFile() as errors:
        started = time.monotonic()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=errors, text=True)
        last: dict[str, object] = {}
        received = 0
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("progress "):
                received = int(line.split()[1])
                if kill_when is not None and received >= kill_when * size:
                    os.kill(proc.pid, signal.SIGKILL)
                    break
            elif line.startswith("{"):
                last = json.loads(line)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.monotonic() - started
        proc.stdout.close()
        if kill_when is None and status != 0:
            errors.seek(0)
            detail = errors.read().decode(errors="replace")[-2000:]
            raise RuntimeError(f"{' '.join(cmd)} failed with status {status}:\n{detail}")
    last.setdefault("received", received)
    # ru_maxrss survives exec and so includes the forking parent; prefer the child's own
    rss = last.get("rss_mib")
    peak = float(rss) if isinstance(rss, int | float) else usage.ru_maxrss / 1024
    return Run(elapsed, usage.ru_utime + usage.ru_stime, peak, last)


def make_file(path: Path, size: int) -> None:
    block = os.urandom(min(size, 64 * MiB))
    with path.open("wb") as handle:
        left = size
        while left > 0:
            piece = block[: min(len(block), left)]
            handle.write(piece)
            left -= len(piece)


def crc_of(path: Path) -> int:
    sys.path.insert(0, str(HERE.parent))
    import asyncio

    from pixop_async.transfer.checksum import crc32c_file

    return asyncio.run(crc32c_file(path))


@contextmanager
def nginx(root: Path, work: Path) -> Iterator[str]:
    port = _free_port()
    conf = work / "nginx.conf"
    conf.write_text(
        f"""
worker_processes 1;
daemon off;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  sendfile on;
  tcp_nopush on;
  client_body_temp_path {work}/body;
  proxy_temp_path {work}/proxy;
  fastcgi_temp_path {work}/fastcgi;
  uwsgi_temp_path {work}/uwsgi;
  scgi_temp_path {work}/scgi;
  server {{
    listen 127.0.0.1:{port};
    root {root};
  }}
}}
"""
    )
    proc = subprocess.Popen(["nginx", "-c", str(conf), "-p", str(work)])
    _wait_port(port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait()


EMULATOR_SERVER = """
import sys
from aiohttp import web
from pathlib import Path
from pixop_async.emulator.media import serve_file, MediaControls, MEDIA_KEY

root = Path(sys.argv[1])

async def handle(request):
    return await serve_file(request, root / request.match_info["name"])

app = web.Application()
app[MEDIA_KEY] = MediaControls(rate_limit=float(sys.argv[3]) or None)
app.router.add_get("/{name:.+}", handle)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[2]), print=None, access_log=None)
"""


@contextmanager
def emulator(root: Path, rate: float | None) -> Iterator[str]:
    """The emulator's media serving; ``rate`` caps each connection (not each response)."""
    port = _free_port()
    cmd = [sys.executable, "-c", EMULATOR_SERVER, str(root), str(port), str(rate or 0)]
    proc = subprocess.Popen(cmd)
    _wait_port(port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait()


def _wait_port(port: int) -> None:
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("the file server did not start")


class Bench:
    def __init__(self, capped_base: str, full_base: str, work: Path, server: str) -> None:
        self.capped_base = capped_base
        self.full_base = full_base
        self.work = work
        self.server = server
        self.out = work / "out"
        self.rows: list[tuple[str, str, str]] = []
        self.startup_cpu = 0.0

    def url(self, name: str, capped: bool) -> str:
        return f"{self.capped_base if capped else self.full_base}/{name}"

    def clean(self) -> None:
        shutil.rmtree(self.out, ignore_errors=True)
        self.out.mkdir()

    def sdk(self, url: str, connections: int, *extra: str, **kw: object) -> Run:
        self.clean()
        cmd = [sys.executable, str(HERE / "_sdk_client.py"), "one", url, str(self.out / "f")]
        return measure([*cmd, "--connections", str(connections), *extra], **kw)  # type: ignore[arg-type]

    def aria2(self, url: str, connections: int) -> Run:
        self.clean()
        split = ["-x", str(connections), "-s", str(connections), "-k", "1M", "--min-split-size=8M"]
        return measure([*aria2_command(self.out, *split), "-o", "f", url])

    def sdk_many(self, listing: Path, connections: int) -> Run:
        """``download_many`` over the URLs in ``listing``, one connection per file, as many
        files at once as ``connections`` keep busy (the connection budget)."""
        self.clean()
        cmd = [sys.executable, str(HERE / "_sdk_client.py"), "many", str(listing), str(self.out)]
        return measure([*cmd, "--connections", "1", "--files", "0", "--budget", str(connections)])

    def aria2_many(self, listing: Path, jobs: int) -> Run:
        self.clean()
        return measure(aria2_many_command(listing, self.out, jobs))

    def curl(self, url: str) -> Run:
        self.clean()
        return measure(["curl", "-s", "-f", "-o", str(self.out / "f"), url])

    def row(self, label: str, value: str, verdict: str = "") -> None:
        self.rows.append((label, value, verdict))
        print(f"  {label:<58} {value:<28} {verdict}", flush=True)


def rate(size: int, run: Run) -> float:
    return size / MiB / run.transfer


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def run_all(bench: Bench, quick: bool, repeat: int = 1) -> None:
    root = bench.work / "www"
    capped_size = 128 * MiB if quick else 512 * MiB
    big_size = 512 * MiB if quick else 2 * GiB
    rss_sizes = (256 * MiB, 1 * GiB) if quick else (1 * GiB, 4 * GiB)
    small_count = 100 if quick else 500
    make_file(root / "capped.bin", capped_size)
    make_file(root / "big.bin", big_size)
    capped_crc = crc_of(root / "capped.bin")
    big_crc = crc_of(root / "big.bin")
    make_file(root / "tiny.bin", 1)
    idle = bench.sdk(bench.url("tiny.bin", capped=False), 1)
    bench.startup_cpu = idle.cpu
    print(
        f"uncapped server: {bench.server}, capped: emulator; SDK times are its own "
        f"(interpreter start-up, {idle.elapsed:.2f} s wall / {idle.cpu:.2f} s CPU, excluded)",
        flush=True,
    )

    # 1. capped per connection: the ideal is connections x cap
    url = bench.url("capped.bin", capped=True)
    crc = ["--expected-crc", str(capped_crc)]
    sdk8 = bench.sdk(url, 8, *crc)
    ideal8 = 8 * CAP / MiB
    bench.row(
        f"{capped_size // MiB} MiB, 25 MiB/s/conn, 8 conns: SDK MiB/s",
        f"{rate(capped_size, sdk8):.0f} = {rate(capped_size, sdk8) / ideal8:.2f} x ideal",
        verdict(rate(capped_size, sdk8) / ideal8 >= 0.95),
    )
    aria8 = bench.aria2(url, 8)
    bench.row("   same, aria2c -x8 -s8 MiB/s", f"{rate(capped_size, aria8):.0f}")
    sdk16 = bench.sdk(url, 16, *crc)
    aria16 = bench.aria2(url, 16)
    ratio16 = aria16.transfer / sdk16.transfer
    bench.row(
        f"{capped_size // MiB} MiB, 25 MiB/s/conn, 16 conns: SDK vs aria2c",
        f"{rate(capped_size, sdk16):.0f} vs {rate(capped_size, aria16):.0f} MiB/s = {ratio16:.2f}x",
        verdict(ratio16 >= 1.1),
    )

    # 2. uncapped: throughput, CPU, loop lag, CRC on/off
    # interleaved, best of ``repeat`` (time and CPU each taken at their best)
    url = bench.url("big.bin", capped=False)
    crc_arg = ["--expected-crc", str(big_crc)]
    runs: dict[str, list[Run]] = {"curl": [], "4": [], "8": []}
    for _ in range(repeat):
        runs["curl"].append(bench.curl(url))
        for connections in (4, 8):
            runs[str(connections)].append(bench.sdk(url, connections, *crc_arg))
    curl = min(runs["curl"], key=lambda r: r.transfer)
    curl = attrs.evolve(curl, cpu=min(r.cpu for r in runs["curl"]))
    best: Run | None = None
    for connections in (4, 8):
        run = min(runs[str(connections)], key=lambda r: r.transfer)
        bench.row(
            f"{big_size // MiB} MiB uncapped, SDK {connections} conns MiB/s",
            f"{rate(big_size, run):.0f}",
        )
        if best is None or run.transfer < best.transfer:
            best = run
    assert best is not None
    best = attrs.evolve(best, cpu=min(r.cpu for r in runs["4"] + runs["8"]))
    aria = bench.aria2(url, 16)
    bench.row(f"{big_size // MiB} MiB uncapped, curl MiB/s", f"{rate(big_size, curl):.0f}")
    bench.row(f"{big_size // MiB} MiB uncapped, aria2c -x16 MiB/s", f"{rate(big_size, aria):.0f}")
    bench.row(
        "uncapped: SDK (best) vs curl",
        f"{curl.transfer / best.transfer:.2f}x "
        f"(with interpreter start: {curl.elapsed / best.elapsed:.2f}x)",
        verdict(curl.transfer / best.transfer >= 1.1),
    )
    gib = big_size / GiB
    net = best.cpu - bench.startup_cpu
    bench.row(
        "client CPU s/GiB: SDK (minus interpreter start) vs curl",
        f"{net / gib:.2f} vs {curl.cpu / gib:.2f} = {net / max(curl.cpu, 1e-9):.2f}x",
        verdict(net <= 1.1 * curl.cpu),
    )
    lag = float(best.out.get("lag_ms", 0.0))  # type: ignore[arg-type]
    bench.row("worst event-loop lag at full speed (ms)", f"{lag:.1f}", verdict(lag <= 20))
    nosync = bench.sdk(url, 4, "--expected-crc", str(big_crc), "--no-fsync")
    bench.row(
        "  same, SDK 4 conns without the final fsync (MiB/s)",
        f"{rate(big_size, nosync):.0f} = {curl.transfer / nosync.transfer:.2f}x curl",
    )
    off = bench.sdk(url, 8, "--no-crc")
    on = bench.sdk(url, 8, "--expected-crc", str(big_crc))
    bench.row(
        "CRC32C on vs off (8 conns, MiB/s; CPU s)",
        f"{rate(big_size, on):.0f} vs {rate(big_size, off):.0f}; {on.cpu:.2f} vs {off.cpu:.2f}",
    )

    # 3. peak RSS flat in file size
    rss = []
    for size in rss_sizes:
        make_file(root / "rss.bin", size)
        run = bench.sdk(bench.url("rss.bin", capped=False), 8)
        rss.append(run.rss_mib)
        bench.row(
            f"peak RSS, {size // MiB} MiB file (MiB)",
            f"{run.rss_mib:.0f}",
            verdict(run.rss_mib <= 56),
        )
        (root / "rss.bin").unlink()

    # 4. many small files
    small = root / "small"
    small.mkdir()
    block = os.urandom(MiB)
    urls = []
    for i in range(small_count):
        (small / f"s{i:04d}.bin").write_bytes(block[i:] + block[:i])
        urls.append(bench.url(f"small/s{i:04d}.bin", capped=False))
    listing = bench.work / "list.txt"
    listing.write_text("\n".join(urls) + "\n")
    many = bench.sdk_many(listing, 16)
    aria_many = bench.aria2_many(listing, 16)
    bench.row(
        f"{small_count} x 1 MiB: download_many vs aria2c -j16 (s)",
        f"{many.transfer:.2f} vs {aria_many.transfer:.2f} = "
        f"{aria_many.transfer / many.transfer:.2f}x",
    )

    # 5. kill -9 at half way, then resume
    part = 8 * MiB
    url = bench.url("capped.bin", capped=True)
    bench.clean()
    cmd = [
        sys.executable,
        str(HERE / "_sdk_client.py"),
        "one",
        url,
        str(bench.out / "f"),
        "--connections",
        "8",
        "--part-size",
        str(part),
        "--progress",
    ]
    killed = measure(cmd, kill_when=0.5, size=capped_size)
    journal_file = bench.out / "f.pixop-part.journal"
    done_parts = len(json.loads(journal_file.read_text())["done"])
    resumed = measure([c for c in cmd if c != "--progress"])
    received_before = int(killed.out["received"])  # type: ignore[call-overload]
    fetched_after = int(resumed.out["bytes"])  # type: ignore[call-overload]
    refetched = max(0, received_before + fetched_after - capped_size)
    bench.row(
        "kill -9 at ~50%: refetched after resume (MiB)",
        f"{refetched / MiB:.1f} (limit {8 * part // MiB}; {done_parts} parts kept)",
        verdict(refetched <= 8 * part),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller files, about a minute")
    parser.add_argument("--server", choices=["auto", "nginx", "emulator"], default="auto")
    parser.add_argument("--far-only", action="store_true", help="only the far-object-store cases")
    parser.add_argument("--no-far", action="store_true", help="skip the far-object-store cases")
    parser.add_argument("--repeat", type=int, default=3, help="best of N, interleaved")
    args = parser.parse_args()
    for tool in ("aria2c", "curl"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is needed: apt-get install -y aria2 curl")
    server = args.server
    if server == "auto":
        server = "nginx" if shutil.which("nginx") else "emulator"
    work = Path(tempfile.mkdtemp(prefix="pixop-bench-", dir="/tmp"))
    os.chmod(work, 0o755)  # nginx workers run as an unprivileged user
    try:
        root = work / "www"
        root.mkdir()
        with contextlib.ExitStack() as stack:
            # nginx's limit_rate grants every response a second of data up front, which
            # clients making many short range requests exploit; the emulator paces each
            # TCP connection instead, so capped runs always use it.
            capped = stack.enter_context(emulator(root, CAP))
            if server == "nginx":
                full = stack.enter_context(nginx(root, work))
            else:
                full = stack.enter_context(emulator(root, None))
            bench = Bench(capped, full, work, server)
            if not args.far_only:
                run_all(bench, args.quick, 1 if args.quick else args.repeat)
            if not args.no_far:
                run_far(bench, root, args.quick, 1 if args.quick else args.repeat)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
