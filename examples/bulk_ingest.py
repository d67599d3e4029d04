"""Import many videos over HTTPS and wait until each is ingested.

    export PIXOP_API_KEY=... [PIXOP_BASE_URL=...]
    python examples/bulk_ingest.py https://host/a.mov https://host/b.mov --parallel 4

Prints one JSON line per URL (``videoId`` or ``error``) and exits 1 if any failed: one bad
URL never stops the others. Against ``pixop emulator --allow-http-sources``, plain
``http://127.0.0.1`` sources are accepted too.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import posixpath
import sys
from urllib.parse import urlsplit

from _common import is_local

from pixop_async import Pixop, PixopError


async def ingest(px: Pixop, url: str, slots: asyncio.Semaphore, timeout: float) -> dict[str, str]:
    name = posixpath.basename(urlsplit(url).path) or url
    async with slots:
        try:
            started = await px.imports.from_https(url, name, allow_loopback_http=is_local(px))
            await px.imports.wait_ingested(started.video_id, timeout=timeout)
        except PixopError as exc:
            return {"url": url, "error": f"{type(exc).__name__}: {exc}"}
    return {"url": url, "videoId": str(started.video_id)}


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("urls", nargs="+")
    parser.add_argument("--parallel", type=int, default=4)
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per video")
    args = parser.parse_args(argv)
    slots = asyncio.Semaphore(args.parallel)
    async with Pixop() as px:  # PIXOP_API_KEY / PIXOP_BASE_URL
        results = await asyncio.gather(*(ingest(px, u, slots, args.timeout) for u in args.urls))
    for result in results:
        print(json.dumps(result))
    return 1 if any("error" in r for r in results) else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
