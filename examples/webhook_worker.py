"""A webhook-driven worker: every imported video that finishes ingesting is upscaled 2x.

    export PIXOP_API_KEY=... [PIXOP_BASE_URL=...]
    python examples/webhook_worker.py --public-url https://hooks.example.com/pixop --port 8091

The worker verifies each delivery's signature, starts processing when a
``video_in_ingestion.done`` event arrives, and prints a JSON line when the matching
``video_processing.done`` (or ``.failed``) arrives. Real Pixop delivers only to a public
HTTPS URL (your proxy or tunnel in front of ``--port``); against a local emulator started
with ``--allow-http-sources`` the receiver's own ``http://127.0.0.1`` URL is subscribed.
``--count N`` stops after N processed videos; the subscription is deleted on the way out.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import uuid

from _common import is_local

from pixop_async import Pixop
from pixop_async.models.processing_options import (
    Codec,
    EncodingConfiguration,
    Filters,
    FilterSettings,
    MediaContainer,
    Resolution,
    ResolutionTag,
    Scaler,
    VideoProcessingConfigurationOptions,
)
from pixop_async.webhooks import PublicKeyCache, ReceivedEvent, WebhookReceiver

UPSCALE = VideoProcessingConfigurationOptions(
    container=MediaContainer.MP4,
    encoding_configuration=EncodingConfiguration(codec=Codec.H264),
    filters=Filters(scaler=Scaler.DVRES2),
    filter_settings=FilterSettings(resolution=Resolution(tag=ResolutionTag.X2)),
)
EVENTS = ["video_in_ingestion.done", "video_processing.done", "video_processing.failed"]


async def handle(px: Pixop, event: ReceivedEvent, jobs: dict[uuid.UUID, uuid.UUID]) -> bool:
    """React to one event; True when a processing job of ours has finished."""
    kind, video_id = event.event_type.value, event.video_id
    if video_id is None or event.test:
        return False
    if kind == "video_in_ingestion.done":
        started = await px.processing.start(video_id, UPSCALE, video_name="upscaled 2x")
        jobs[started.video_id] = video_id
        return False
    if video_id in jobs:
        outcome = "done" if kind == "video_processing.done" else "failed"
        print(json.dumps({"source": str(jobs.pop(video_id)), "processed": str(video_id),
                          "outcome": outcome}), flush=True)  # fmt: skip
        return True
    return False


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8091)
    parser.add_argument("--public-url", default=None, help="the HTTPS URL Pixop delivers to")
    parser.add_argument("--count", type=int, default=None, help="stop after N processed")
    parser.add_argument("--timeout", type=float, default=None, help="stop after S seconds")
    args = parser.parse_args(argv)
    async with Pixop() as px:  # PIXOP_API_KEY / PIXOP_BASE_URL
        receiver = WebhookReceiver(PublicKeyCache(px))
        async with receiver.serve("127.0.0.1", args.port) as local_url:
            url = args.public_url or local_url
            hook = await px.webhooks.create(
                "example worker", url, EVENTS, allow_loopback_http=is_local(px)
            )
            print(json.dumps({"listening": local_url, "webhookId": str(hook.id)}), flush=True)
            jobs: dict[uuid.UUID, uuid.UUID] = {}
            finished = 0

            async def consume() -> None:
                nonlocal finished
                async for event in receiver.events():
                    finished += await handle(px, event, jobs)
                    if args.count is not None and finished >= args.count:
                        return

            try:
                await asyncio.wait_for(consume(), args.timeout)
            except asyncio.TimeoutError:
                print(f"stopped after {args.timeout} s", file=sys.stderr)
            finally:
                await px.webhooks.delete(hook.id)
    return 0 if args.count is None or finished >= args.count else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
