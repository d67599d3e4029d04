"""Import time and memory of ``pixop_async`` against ``aiohttp`` (issue #12's lighter process).

    python benchmarks/import_cost.py            # best of 9 fresh interpreters per case
    python benchmarks/import_cost.py --runs 20

Each case runs in a new interpreter (module loading is per process), the cases interleaved
round by round so a busy machine slows them alike; the best wall time of the statement and
the peak RSS (``VmHWM``) of the process are kept. The acceptance figures are printed as
differences against ``import aiohttp``: import time at most +50 ms (wall time on a quiet
machine; on a busy one compare the CPU time, which other processes do not inflate).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CASES = {
    "python": "pass",
    "aiohttp": "import aiohttp",
    "pixop_async": "import pixop_async",
    "Pixop()": "from pixop_async import Pixop; Pixop(api_key='k')",
    "Pixop()+imports+processing": (
        "from pixop_async import Pixop; px = Pixop(api_key='k'); px.imports; px.processing"
    ),
    "download_url (transfer engine)": "from pixop_async import download_url",
    # one transfer name or module loads that module, not the engine (lazy transfer package)
    "TransferConfig": "from pixop_async import TransferConfig",
    "transfer.segments (pure)": "import pixop_async.transfer.segments",
    "pixop_async+everything": (
        "import pixop_async, pixop_async.webhooks, pixop_async.legacy, pixop_async.transfer; "
        "px = pixop_async.Pixop(api_key='k'); "
        "[getattr(px, n) for n in dir(px) if not n.startswith('_')]"
    ),
}

PROBE = """
import time
_t, _c = time.perf_counter(), time.process_time()
{statement}
_elapsed, _cpu = time.perf_counter() - _t, time.process_time() - _c
for _line in open('/proc/self/status'):
    if _line.startswith('VmHWM:'):
        _rss = int(_line.split()[1]) / 1024
print(_elapsed, _rss, _cpu)
"""


def run_once(statement: str) -> tuple[float, float, float]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(statement=statement)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    ).stdout.split()
    return float(out[0]), float(out[1]), float(out[2])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=9, help="fresh interpreters per case")
    args = parser.parse_args()
    best: dict[str, tuple[float, float, float]] = {}
    for _ in range(args.runs):
        for name, statement in CASES.items():
            measured = run_once(statement)
            old = best.get(name)
            best[name] = tuple(  # type: ignore[assignment]
                min(new, was) for new, was in zip(measured, old or measured, strict=True)
            )
    base_t, base_rss, base_cpu = best["aiohttp"]
    rows = {}
    for name, (elapsed, rss, cpu) in best.items():
        rows[name] = {
            "import_ms": round(elapsed * 1000, 1),
            "vs_aiohttp_ms": round((elapsed - base_t) * 1000, 1),
            # CPU time is what a busy machine does not inflate: the figure to compare there
            "import_cpu_ms": round(cpu * 1000, 1),
            "vs_aiohttp_cpu_ms": round((cpu - base_cpu) * 1000, 1),
            "peak_rss_mib": round(rss, 1),
            "vs_aiohttp_rss_mib": round(rss - base_rss, 1),
        }
        print(f"{name:28} {rows[name]}")
    target = {
        f"{name} ({unit})": rows[name][f"vs_aiohttp_{unit}"] <= 50.0
        for name in ("pixop_async", "Pixop()")
        for unit in ("ms", "cpu_ms")
    }
    print(json.dumps({"runs": args.runs, "within_aiohttp_plus_50ms": target, "cases": rows}))


if __name__ == "__main__":
    main()
