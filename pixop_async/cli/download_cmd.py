"""``pixop download``: a video's data (``VIDEO_ID DEST``) or any ranged URL (``--url``).

Downloads resume from their journal unless ``--no-resume``; the result reports the path,
size, CRC32C and whether the bytes were verified against a known checksum.
"""

from __future__ import annotations

import argparse
from typing import Any

from ..transfer.download import DownloadResult
from ..transfer.quick import download_url
from .bars import byte_callback
from .common import CliError, add_common_options, console, open_client, show
from .support import (
    add_progress_option,
    byte_bars,
    hex_crc,
    human_size,
    parse_crc32c,
    positive_int,
)
from .tables import inert


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "download", help="download a video (VIDEO_ID DEST) or a URL (--url URL DEST)"
    )
    parser.add_argument(
        "target", nargs="+", metavar="ARG", help="VIDEO_ID DEST, or DEST with --url"
    )
    parser.add_argument("--url", default=None, help="download this URL instead of a video")
    parser.add_argument("--crc32c", default=None, help="expected CRC32C of --url (N or 0xN)")
    parser.add_argument("--connections", type=positive_int, default=None, help="parallel ranges")
    parser.add_argument(
        "--no-resume",
        dest="resume",
        action="store_false",
        help="start over instead of continuing an interrupted download",
    )
    add_progress_option(parser)
    add_common_options(parser)
    parser.set_defaults(func=run)


def result_json(result: DownloadResult, verified: bool) -> dict[str, Any]:
    return {
        "path": str(result.path),
        "size": result.size,
        "crc32c": hex_crc(result.crc32c),
        "verified": verified,
        "bytesFetched": result.bytes_fetched,
        "elapsedSeconds": round(result.elapsed, 3),
    }


def render_result(result: DownloadResult, verified: bool) -> None:
    rate = result.bytes_fetched / result.elapsed if result.elapsed > 0 else 0.0
    console.print(f"saved [bold]{inert(result.path)}[/]")
    console.print(f"  size    {result.size} bytes ({human_size(result.size)})")
    check = "[green]verified[/]" if verified else "[yellow]not verified (no checksum given)[/]"
    console.print(f"  CRC32C  {hex_crc(result.crc32c)}  {check}")
    console.print(
        f"  fetched {human_size(result.bytes_fetched)} in {result.elapsed:.2f} s "
        f"({human_size(int(rate))}/s)"
    )


async def run(args: argparse.Namespace) -> int:
    if args.url is not None:
        if len(args.target) != 1:
            raise CliError("download --url URL DEST takes exactly one DEST")
        expected = None if args.crc32c is None else parse_crc32c(args.crc32c)
        with byte_bars(args) as progress:
            task = progress.add_task("download", total=None)
            result = await download_url(
                args.url,
                args.target[0],
                connections=args.connections or 8,
                expected_crc32c=expected,
                progress=byte_callback(progress, task),
                resume=args.resume,
            )
        verified = expected is not None
    else:
        if len(args.target) != 2:
            raise CliError("download takes VIDEO_ID DEST (or --url URL DEST)")
        if args.crc32c is not None:
            raise CliError("--crc32c applies to --url; a video's checksum comes from the API")
        video_id, dest = args.target
        async with open_client(args) as px:
            record = await px.exports.download_url(video_id)
            with byte_bars(args) as progress:
                task = progress.add_task(record.suggested_file_name, total=record.file_size)
                result = await px.downloads.download(
                    video_id,
                    dest,
                    connections=args.connections,
                    progress=byte_callback(progress, task),
                    resume=args.resume,
                )
        # the engine raises ChecksumMismatchError unless the bytes match the API's CRC32C
        verified = record.crc32c_checksum is not None
    show(args, result_json(result, verified), lambda: render_result(result, verified))
    return 0
