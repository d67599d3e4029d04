"""Download many processed (or master) videos into one directory, CRC32C-verified.

    export PIXOP_API_KEY=... [PIXOP_BASE_URL=...]
    python examples/download_many.py out/ VIDEO_ID [VIDEO_ID ...]

Prints one JSON line per video (``path`` and ``crc32c``, or ``error``) and exits 1 if any
failed. A rerun skips the files already there with the right checksum and resumes the others.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from pixop_async import Pixop


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dest_dir")
    parser.add_argument("video_ids", nargs="+")
    args = parser.parse_args(argv)
    async with Pixop() as px:  # PIXOP_API_KEY / PIXOP_BASE_URL
        report = await px.downloads.download_many(args.video_ids, args.dest_dir)
    for item in report.items:
        line: dict[str, object] = {"videoId": str(item.item), "status": item.status.value}
        if item.result is not None:
            line.update(path=str(item.result.path), crc32c=f"{item.result.crc32c:08x}")
        if item.error is not None:
            line["error"] = f"{type(item.error).__name__}: {item.error}"
        print(json.dumps(line))
    print(report.summary(), file=sys.stderr)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
