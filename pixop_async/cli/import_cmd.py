"""``pixop import https|s3|file``: create a master video from a URL, an S3 object or a
local file (``file``: see :mod:`.import_file_cmd`).

The S3 secret access key comes from ``PIXOP_S3_SECRET_ACCESS_KEY`` (or a flag) and is never
printed. With ``--wait`` the import and the ingestion after it are followed with bars.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from ..client import Pixop
from ..errors import OperationFailedError, PollTimeoutError
from ..models.locations import S3BucketWithAccessKeys
from ..models.videos import VideoInStatus
from ..transfer.checksum import crc32c_file
from . import import_file_cmd
from .common import CliError, add_common_options, console, open_client, show
from .support import (
    add_poll_options,
    add_progress_option,
    describe_error,
    hex_crc,
    is_loopback_api,
    parse_crc32c,
    percent_bars,
    poll_intervals,
    status_label,
)
from .tables import inert
from .watch_cmd import follow

SECRET_ENV = "PIXOP_S3_SECRET_ACCESS_KEY"


async def resolve_crc32c(crc_arg: str | None, local_file: str | None) -> int | None:
    """``--crc32c``: ``auto`` hashes ``--local-file`` (a local copy of the source)."""
    if crc_arg is None:
        if local_file is not None:
            raise CliError("--local-file is only used with --crc32c auto")
        return None
    if crc_arg == "auto":
        if local_file is None:
            raise CliError("--crc32c auto needs --local-file (a local copy of the source)")
        return await crc32c_file(local_file)
    return parse_crc32c(crc_arg)


def _common(parser: argparse.ArgumentParser, *, name_required: bool = True) -> None:
    parser.add_argument("--name", required=name_required, help="name of the new video")
    parser.add_argument("--description", default=None)
    parser.add_argument("--file-name", default=None, help="file name to store it under")
    parser.add_argument("--project-id", default=None)
    parser.add_argument("--team-id", default=None, help="team to act for (selectTeamId)")
    parser.add_argument(
        "--full-ingestion", action="store_true", help="thumbnails, web video and quality too"
    )
    parser.add_argument(
        "--wait", action="store_true", help="follow the import and ingestion to the end"
    )
    add_poll_options(parser)
    add_progress_option(parser)
    add_common_options(parser)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("import", help="import a master video from HTTPS or S3")
    sources = parser.add_subparsers(dest="source", required=True)
    https = sources.add_parser("https", help="import from a public HTTPS URL")
    https.add_argument("url")
    https.add_argument(
        "--crc32c",
        default=None,
        metavar="auto|N",
        help="expected CRC32C; 'auto' computes it from --local-file",
    )
    https.add_argument("--local-file", default=None, help="local copy of the source for auto")
    https.add_argument(
        "--max-connections", type=int, default=10, help="parallel fetches Pixop may use (1-20)"
    )
    _common(https)
    s3 = sources.add_parser("s3", help="import an object from an S3 bucket")
    s3.add_argument("object_key")
    s3.add_argument("--location-id", default=None, help="a saved S3 input location")
    s3.add_argument("--bucket", default=None, help="bucket name (with inline credentials)")
    s3.add_argument("--access-key", default=None, help="bucket access key id")
    s3.add_argument("--secret-access-key", default=None, help=f"bucket secret (env {SECRET_ENV})")
    _common(s3)
    local = sources.add_parser(
        "file", help="upload local files to S3 (multipart, CRC32C, resumable) and import them"
    )
    import_file_cmd.add_arguments(local)
    _common(local, name_required=False)
    parser.set_defaults(func=run)


def _bucket(args: argparse.Namespace) -> S3BucketWithAccessKeys:
    secret = args.secret_access_key or os.environ.get(SECRET_ENV)
    if not args.bucket or not args.access_key or not secret:
        raise CliError(
            f"import s3 needs --location-id, or --bucket, --access-key and a secret "
            f"(--secret-access-key or env {SECRET_ENV})"
        )
    return S3BucketWithAccessKeys(args.bucket, args.access_key, secret)


async def _start(px: Pixop, args: argparse.Namespace, crc: int | None) -> VideoInStatus:
    common: dict[str, Any] = {
        "description": args.description,
        "project_id": args.project_id,
        "file_name": args.file_name,
        "full_ingestion": args.full_ingestion,
        "select_team_id": args.team_id,
    }
    if args.source == "https":
        return await px.imports.from_https(
            args.url,
            args.name,
            crc32c=crc,
            max_concurrent_connections=args.max_connections,
            allow_loopback_http=is_loopback_api(px),
            **common,
        )
    if args.location_id is not None:
        if args.bucket or args.access_key or args.secret_access_key:
            raise CliError("--location-id and inline bucket credentials exclude each other")
        return await px.imports.from_s3_location(
            args.location_id, args.object_key, args.name, **common
        )
    return await px.imports.from_s3(_bucket(args), args.object_key, args.name, **common)


async def run(args: argparse.Namespace) -> int:
    if args.source == "file":
        return await import_file_cmd.run(args)
    intervals = poll_intervals(args)
    async with open_client(args) as px:
        https = args.source == "https"
        crc = await resolve_crc32c(args.crc32c, args.local_file) if https else None
        started = await _start(px, args, crc)
        vid = str(started.video_id)
        final: VideoInStatus = started
        if args.wait:
            with percent_bars(args) as progress:
                try:
                    final = await follow(
                        px, vid, "ingestion", progress, intervals=intervals, timeout=args.timeout
                    )
                except (OperationFailedError, PollTimeoutError) as exc:
                    raise CliError(f"video {vid}: {describe_error(exc)}") from None
        file = final.upload.file

        def render() -> None:
            console.print(f"video [bold]{vid}[/] import {status_label(final.upload_status)}")
            if file is not None:
                console.print(f"  file {inert(file.name)}, {file.size} bytes")
            if args.wait:
                console.print(f"  ingestion {status_label(final.ingestion_status)}")
            if crc is not None:
                console.print(f"  expected CRC32C {hex_crc(crc)}")

        show(args, final, render)
        return 0
