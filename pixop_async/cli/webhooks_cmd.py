"""``pixop webhooks``: listen for verified deliveries, list, create and test subscriptions.

``webhooks listen`` runs :class:`~pixop_async.webhooks.WebhookReceiver` standalone, with
the signing keys fetched through the client, and prints each verified event (one JSON
object a line with ``--json``). Refused deliveries are answered by the receiver (401/400)
and never printed as events.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import time

from ..models.converter import unstructure
from ..models.webhooks import Webhook, WebhookEventType
from ..webhooks import PublicKeyCache, ReceivedEvent, WebhookReceiver
from ..webhooks.listen_url import advertised_url
from .common import (
    CliError,
    add_common_options,
    console,
    err_console,
    model_table,
    open_client,
    show,
)
from .support import is_loopback_api, positive_float, positive_int

#: Default port of ``pixop webhooks listen``: not the emulator's 8080, so both run at once.
LISTEN_PORT = 8090

EVENT_TYPES = [t.value for t in WebhookEventType]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("webhooks", help="webhook subscriptions and a listener")
    actions = parser.add_subparsers(dest="action", required=True)
    listen = actions.add_parser("listen", help="receive deliveries and print verified events")
    listen.add_argument("--host", default="127.0.0.1")
    listen.add_argument(
        "--port",
        type=int,
        default=LISTEN_PORT,
        help=f"0 picks a free port ({LISTEN_PORT}; the emulator's default is 8080)",
    )
    listen.add_argument("--path", default="/webhooks/pixop", help="path deliveries are sent to")
    listen.add_argument("--count", type=positive_int, default=None, help="stop after N events")
    listen.add_argument("--timeout", type=positive_float, default=None, help="stop after S seconds")
    listing = actions.add_parser("list", help="list webhooks")
    create = actions.add_parser("create", help="subscribe a URL to events")
    create.add_argument("url")
    create.add_argument(
        "--events", nargs="+", required=True, metavar="TYPE", help=", ".join(EVENT_TYPES)
    )
    create.add_argument("--name", default=None, help="webhook name (defaults to the URL)")
    create.add_argument("--description", default=None)
    create.add_argument("--rate-limit", type=int, default=10, help="deliveries a second")
    test = actions.add_parser("test", help="send a test event to a webhook")
    test.add_argument("webhook_id")
    test.add_argument("--event-type", default=None)
    test.add_argument("--video-id", default=None)
    for sub in (listen, listing, create, test):
        add_common_options(sub)
    parser.set_defaults(func=run)


def event_json(event: ReceivedEvent) -> dict[str, object]:
    data: dict[str, object] = unstructure(event.payload)
    data["keyId"] = event.key_id
    data["signedAt"] = event.signed_at
    return data


def _print_event(event: ReceivedEvent, as_json: bool) -> None:
    if as_json:
        sys.stdout.write(json.dumps(event_json(event), default=str) + "\n")
        sys.stdout.flush()
        return
    test = " [yellow](test)[/]" if event.test else ""
    console.print(
        f"{event.occurred_at.isoformat()}  [bold]{event.event_type.value}[/]{test}  "
        f"video {event.video_id or '-'}  event {event.id}  key {event.key_id or '-'}"
    )


async def _listen(args: argparse.Namespace) -> int:
    async with open_client(args) as px:
        keys = PublicKeyCache(px)
        receiver = WebhookReceiver(keys, path=args.path)
        deadline = None if args.timeout is None else time.monotonic() + args.timeout
        seen = 0
        async with receiver.serve(args.host, args.port) as bound:
            url = advertised_url(bound)
            err_console.print(f"listening on {url} (verified events are printed)")
            events = receiver.events()
            try:
                while args.count is None or seen < args.count:
                    left = None if deadline is None else deadline - time.monotonic()
                    if left is not None and left <= 0:
                        break
                    try:
                        event = await asyncio.wait_for(anext(events), left)
                    except (asyncio.TimeoutError, StopAsyncIteration):
                        break
                    seen += 1
                    _print_event(event, args.json)
            finally:
                with contextlib.suppress(Exception):
                    await events.aclose()  # type: ignore[attr-defined]
        if args.count is not None and seen < args.count:
            raise CliError(f"got {seen} of {args.count} events before the timeout")
        return 0


def _webhook_row(hook: Webhook) -> tuple[object, ...]:
    types = ", ".join(t.value for t in hook.event_types)
    return (hook.name, hook.id, "yes" if hook.active else "no", hook.url, types)


async def run(args: argparse.Namespace) -> int:
    if args.action == "listen":
        return await _listen(args)
    async with open_client(args) as px:
        if args.action == "list":
            hooks = await px.webhooks.list(page_size=100).to_list()
            columns = ("name", "id", "active", "url", "events")
            rows = [_webhook_row(h) for h in hooks]
            show(args, hooks, lambda: console.print(model_table("Webhooks", columns, rows)))
        elif args.action == "create":
            hook = await px.webhooks.create(
                args.name or args.url,
                args.url,
                args.events,
                rate_limit_per_second=args.rate_limit,
                description=args.description,
                allow_loopback_http=is_loopback_api(px),
            )
            show(args, hook, lambda: console.print(f"created webhook [bold]{hook.id}[/]"))
        else:
            event = await px.webhooks.test(
                args.webhook_id, video_id=args.video_id, event_type=args.event_type
            )
            show(
                args,
                event,
                lambda: console.print(
                    f"queued test event {event.id} ({event.payload.event_type.value})"
                ),
            )
        return 0
