"""Command lines of the comparison tools, shared by the benchmarks (no measuring here).

The benchmarks are run as scripts from this directory: ``from _tools import ...``.
"""

from __future__ import annotations

from pathlib import Path


def aria2_command(out: Path, *options: str) -> list[str]:
    """``aria2c`` quiet, writing into ``out`` (no preallocation, overwriting), with
    ``options``; the caller appends what to fetch."""
    return [
        "aria2c",
        "-q",
        *options,
        "--file-allocation=none",
        "--allow-overwrite=true",
        "-d",
        str(out),
    ]


def aria2_many_command(listing: Path, out: Path, jobs: int) -> list[str]:
    """``aria2c -j jobs -x 1`` over the URLs listed in ``listing``: ``jobs`` files at once,
    one connection each (as ``download_many`` with a budget of ``jobs`` connections)."""
    return [*aria2_command(out, "-j", str(jobs), "-x", "1"), "-i", str(listing)]
