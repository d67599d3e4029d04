"""Bulk downloads of many files: this tree against a baseline commit and aria2c, one run.

Two cases (issues 16 and 12):

- ``small``: 2,000 files of 64 KiB from nginx (the object store server when nginx is
  missing), ``download_many`` with the SDK's default settings and with one connection per
  file and 16 files at once. Prints files/s and the SDK's CPU milliseconds per file
  (process CPU over the call, worker threads included) for this tree and the baseline.
- ``far``: 200 files of 1 MiB from ``objstore_server.py`` paced 25 MiB/s per connection
  with a 30 ms first byte, 16 connections: this tree, the baseline and ``aria2c -j16``.

The baseline is checked out with ``git worktree`` (default: ``e05243d``, before the bulk
work) and run by the same client script with its tree on ``PYTHONPATH``. Runs are
interleaved and each keeps its best of ``--repeat``; every file's bytes are compared with
the source after each SDK run.

    python benchmarks/small_files.py                     # both cases, baseline e05243d
    python benchmarks/small_files.py --case small --repeat 5
    python benchmarks/small_files.py --baseline none     # this tree and aria2c only
"""

from __future__ import annotations

import argparse
import contextlib
import filecmp
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from _tools import aria2_many_command
from far_store import far_store
from transfer_bench import Run, measure, nginx

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
MiB = 1024 * 1024


@contextlib.contextmanager
def baseline_tree(rev: str) -> Iterator[Path | None]:
    """A detached worktree of ``rev`` (None for ``none``), removed afterwards."""
    if rev == "none":
        yield None
        return
    where = Path(tempfile.mkdtemp(prefix="pixop-base-", dir="/tmp"))
    where.rmdir()
    subprocess.run(
        ["git", "-C", str(REPO), "worktree", "add", "--detach", "-q", str(where), rev], check=True
    )
    try:
        yield where
    finally:
        subprocess.run(
            ["git", "-C", str(REPO), "worktree", "remove", "--force", str(where)], check=False
        )


def sdk_many(tree: Path, listing: Path, out: Path, *extra: str) -> Run:
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    env_path = os.environ.get("PYTHONPATH", "")
    os.environ["PYTHONPATH"] = str(tree)
    try:
        cmd = [sys.executable, str(HERE / "_sdk_client.py"), "many", str(listing), str(out)]
        return measure([*cmd, *extra])
    finally:
        os.environ["PYTHONPATH"] = env_path


def aria2_many(listing: Path, out: Path, jobs: int) -> Run:
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    return measure(aria2_many_command(listing, out, jobs))


def check_bytes(sources: list[Path], out: Path) -> None:
    """Every downloaded file (``f00000``...) holds the bytes of its source."""
    for i, source in enumerate(sources):
        if not filecmp.cmp(source, out / f"f{i:05d}", shallow=False):
            raise SystemExit(f"bytes differ: {source.name}")


def best_of(repeat: int, runners: dict[str, Callable[[], Run]]) -> dict[str, Run]:
    best: dict[str, Run] = {}
    for _ in range(repeat):
        for name, runner in runners.items():
            run = runner()
            failed = run.out.get("failed")
            if failed:
                raise SystemExit(f"{name}: {failed} items failed")
            if name not in best or run.transfer < best[name].transfer:
                best[name] = run
    return best


def make_files(directory: Path, count: int, size: int) -> list[Path]:
    directory.mkdir(parents=True)
    block = os.urandom(size + count)
    paths = []
    for i in range(count):
        path = directory / f"s{i:05d}.bin"
        path.write_bytes(block[i : i + size])
        paths.append(path)
    return paths


def num(run: Run, key: str) -> float:
    value = run.out.get(key, 0.0)
    return float(value) if isinstance(value, int | float) else 0.0


def trees(base: Path | None) -> dict[str, Path]:
    found = {"this tree": REPO}
    if base is not None:
        found["baseline"] = base
    return found


def small_case(work: Path, base: Path | None, count: int, size: int, repeat: int) -> None:
    sources = make_files(work / "www" / "small", count, size)
    out = work / "out"
    with contextlib.ExitStack() as stack:
        if shutil.which("nginx"):
            url = stack.enter_context(nginx(work / "www", work))
            server = "nginx"
        else:
            url = stack.enter_context(far_store(work / "www", 0, 0.0))
            server = "objstore_server.py (no pacing)"
        listing = work / "small.txt"
        listing.write_text("".join(f"{url}/small/{p.name}\n" for p in sources))
        print(f"\n{count} files x {size // 1024} KiB from {server}, best of {repeat}")
        for label, extra in (
            ("default settings", ["--defaults"]),
            ("1 conn/file, 16 files", ["--connections", "1", "--files", "16"]),
        ):

            def runner(tree: Path, extra: list[str] = extra) -> Run:
                run = sdk_many(tree, listing, out, *extra)
                check_bytes(sources, out)
                return run

            best = best_of(
                repeat, {name: (lambda t=t: runner(t)) for name, t in trees(base).items()}
            )
            for name, run in best.items():
                print(
                    f"  {label:<22} {name:<10} {count / run.transfer:7.0f} files/s  "
                    f"{1000 * num(run, 'cpu') / count:5.2f} ms CPU/file  "
                    f"({run.transfer:.2f} s, loop lag {num(run, 'lag_ms'):.0f} ms)"
                )
            if "baseline" in best:
                ratio = best["baseline"].transfer / best["this tree"].transfer
                cpu = num(best["baseline"], "cpu") / num(best["this tree"], "cpu")
                print(
                    f"  {label:<22} this tree vs baseline: {ratio:.2f}x files/s, "
                    f"{cpu:.2f}x less CPU per file"
                )


def far_args(tree: Path) -> list[str]:
    """16 connections: as many files as they keep busy (this tree), 16 files (baseline,
    which has no connection budget for bulk)."""
    if tree == REPO:
        return ["--connections", "1", "--files", "0", "--budget", "16"]
    return ["--connections", "1", "--files", "16"]


def far_case(work: Path, base: Path | None, repeat: int) -> None:
    sources = make_files(work / "www" / "farsmall", 200, MiB)
    out = work / "out"
    with far_store(work / "www", 25 * MiB, 30.0) as url:
        listing = work / "far.txt"
        listing.write_text("".join(f"{url}/farsmall/{p.name}\n" for p in sources))
        print(
            f"\n200 x 1 MiB, far store 25 MiB/s/conn, 30 ms first byte, 16 conns, best of {repeat}"
        )

        def runner(tree: Path) -> Run:
            run = sdk_many(tree, listing, out, *far_args(tree))
            check_bytes(sources, out)
            return run

        runners: dict[str, Callable[[], Run]] = {
            name: (lambda t=t: runner(t)) for name, t in trees(base).items()
        }
        runners["aria2c -j16"] = lambda: aria2_many(listing, out, 16)
        best = best_of(repeat, runners)
        aria = best["aria2c -j16"].transfer
        for name, run in best.items():
            print(
                f"  {name:<12} {run.transfer:.3f} s  {200 / run.transfer:6.1f} files/s  "
                f"aria2c/this = {aria / run.transfer:.2f}x"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=["small", "far", "both"], default="both")
    parser.add_argument("--baseline", default="e05243d", help="git revision, or 'none'")
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--size", type=int, default=64 * 1024)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="pixop-small-", dir="/tmp"))
    os.chmod(work, 0o755)  # nginx workers run as an unprivileged user
    try:
        with baseline_tree(args.baseline) as base:
            if args.case in ("small", "both"):
                small_case(work, base, args.count, args.size, args.repeat)
            if args.case in ("far", "both"):
                far_case(work, base, args.repeat)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
