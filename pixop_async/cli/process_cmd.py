"""``pixop process``: start a processing job from options JSON or a saved configuration.

Options JSON is checked client-side before anything is sent: the SDK's rules (ranges,
enums, cross-field rules) and, here, unknown keys (a typo would otherwise be dropped
silently). Keys may be camelCase (the API's JSON) or snake_case (the SDK's attributes). A
problem prints one line naming the dotted snake_case field, e.g.
``options.filter_settings.resolution.width: must be an integer``.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import Any

from ..errors import InvalidRequestError, OperationFailedError, PollTimeoutError
from ..models.processing import VideoProcessingStatus
from ..models.processing_options import VideoProcessingConfigurationOptions
from ..models.processing_rules import raise_first
from .common import CliError, add_common_options, console, open_client, show
from .option_keys import camel_keys
from .support import (
    add_poll_options,
    add_progress_option,
    describe_error,
    load_json_argument,
    percent_bars,
    poll_intervals,
    status_label,
)
from .watch_cmd import follow


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name)


def unknown_key(given: Any, known: Any, path: str = "options") -> str | None:
    """The dotted path of the first key of ``given`` that the options model dropped."""
    if not isinstance(given, Mapping) or not isinstance(known, Mapping):
        return None
    for key, value in given.items():
        if value is None:
            continue
        where = f"{path}.{_snake(str(key))}"
        if key not in known:
            return where
        deeper = unknown_key(value, known[key], where)
        if deeper is not None:
            return deeper
    return None


def parse_options(data: Any) -> VideoProcessingConfigurationOptions:
    """The options model from options JSON (camelCase as the API, or snake_case as the SDK),
    validated; ``InvalidRequestError`` names the first offending field in snake_case."""
    data = camel_keys(data)
    raise_first(data, root="options")
    try:
        options = VideoProcessingConfigurationOptions.from_json(data)
    except Exception as exc:  # cattrs groups structure errors; the rules above catch most
        raise InvalidRequestError("options", f"cannot be read ({type(exc).__name__})") from None
    dropped = unknown_key(data, options.to_json())
    if dropped is not None:
        raise InvalidRequestError(dropped, "is not a known processing option")
    return options.validate()


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("process", help="process a video into a new one")
    parser.add_argument("video_id")
    how = parser.add_mutually_exclusive_group(required=True)
    how.add_argument("--config-id", default=None, help="a saved processing configuration")
    how.add_argument(
        "--options", default=None, metavar="FILE_OR_JSON", help="options as JSON or a JSON file"
    )
    parser.add_argument("--name", default=None, help="name of the new video")
    parser.add_argument("--description", default=None, help="description of the new video")
    parser.add_argument("--start-ms", type=int, default=None, help="segment start (ms)")
    parser.add_argument("--end-ms", type=int, default=None, help="segment end (ms)")
    parser.add_argument(
        "--watch", action="store_true", help="follow processing until the result is ready"
    )
    add_poll_options(parser)
    add_progress_option(parser)
    add_common_options(parser)
    parser.set_defaults(func=run)


async def run(args: argparse.Namespace) -> int:
    intervals = poll_intervals(args)
    options = None
    if args.options is not None:
        options = parse_options(load_json_argument(args.options, "--options"))
    naming: dict[str, Any] = {
        "video_name": args.name,
        "video_description": args.description,
        "start_pos_ms": args.start_ms,
        "end_pos_ms": args.end_ms,
    }
    async with open_client(args) as px:
        if options is not None:
            status = await px.processing.start(args.video_id, options, **naming)
        else:
            status = await px.processing.start_with_configuration(
                args.video_id, args.config_id, **naming
            )
        new_id = str(status.video_id)
        final: VideoProcessingStatus = status
        if args.watch:
            with percent_bars(args) as progress:
                try:
                    final = await follow(
                        px,
                        new_id,
                        "processing",
                        progress,
                        intervals=intervals,
                        timeout=args.timeout,
                    )
                except (OperationFailedError, PollTimeoutError) as exc:
                    raise CliError(f"video {new_id}: {describe_error(exc)}") from None
        show(
            args,
            final,
            lambda: console.print(
                f"processing into video [bold]{new_id}[/]: {status_label(final.status)}"
            ),
        )
        return 0
