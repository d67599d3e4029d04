"""``pixop import file PATH...``: upload local files to S3 and import them.

Each file goes up as an S3 multipart upload (parallel parts, CRC32C per part, resumable on
rerun), then the S3 import starts; ``--wait`` also follows the copy and checks Pixop's
CRC32C of the video against the upload's. Credentials: ``--bucket`` with ``--access-key``
and the secret from ``PIXOP_S3_SECRET_ACCESS_KEY`` (or ``--secret-access-key``), or a saved
``--location-id`` plus the same key pair (the API never returns a location's secret) or the
usual AWS credential sources. ``--endpoint-url`` (env ``PIXOP_S3_ENDPOINT_URL``) names a
non-AWS store. Secrets are never printed.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from ..errors import PixopError
from ..models.locations import S3BucketWithAccessKeys
from ..resources.local_imports import LocalImportItem, LocalImportReport
from ..transfer.s3_client import S3Connection, S3ExtraMissingError, require_aiobotocore
from .bars import byte_callback
from .common import CliError, console, emit_json, err_console, open_client
from .support import (
    byte_bars,
    describe_error,
    hex_crc,
    human_size,
    poll_intervals,
    positive_int,
)
from .tables import inert

SECRET_ENV = "PIXOP_S3_SECRET_ACCESS_KEY"
ENDPOINT_ENV = "PIXOP_S3_ENDPOINT_URL"
MiB = 1024 * 1024


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH", help="local video files")
    parser.add_argument("--location-id", default=None, help="a saved S3 input location")
    parser.add_argument("--bucket", default=None, help="bucket name (with --access-key)")
    parser.add_argument("--access-key", default=None, help="S3 access key id")
    parser.add_argument(
        "--secret-access-key", default=None, help=f"S3 secret (better: env {SECRET_ENV})"
    )
    parser.add_argument("--endpoint-url", default=None, help=f"S3 endpoint (env {ENDPOINT_ENV})")
    parser.add_argument("--region", default=None, help="S3 region")
    parser.add_argument("--key-prefix", default="", help="object keys are PREFIX + file name")
    parser.add_argument(
        "--part-size", type=positive_int, default=None, help="part size in MiB (5-5120)"
    )
    parser.add_argument("--no-resume", action="store_true", help="abort failed uploads")
    parser.add_argument("--state-dir", default=None, help="keep upload journals here")


def _connection(args: argparse.Namespace) -> S3Connection:
    secret = args.secret_access_key or os.environ.get(SECRET_ENV)
    if bool(args.access_key) != bool(secret):
        raise CliError(f"--access-key needs a secret (--secret-access-key or env {SECRET_ENV})")
    return S3Connection(
        endpoint_url=args.endpoint_url or os.environ.get(ENDPOINT_ENV) or None,  # '' = AWS
        region=args.region,
        access_key=args.access_key,
        secret_access_key=secret,
    )


def _destination(args: argparse.Namespace, conn: S3Connection) -> dict[str, Any]:
    if (args.location_id is None) == (args.bucket is None):
        raise CliError("import file needs exactly one of --location-id and --bucket")
    if args.bucket is not None:
        if not conn.access_key or not conn.secret_access_key:
            raise CliError(f"--bucket needs --access-key and a secret (env {SECRET_ENV})")
        return {
            "bucket": S3BucketWithAccessKeys(args.bucket, conn.access_key, conn.secret_access_key)
        }
    return {"location_id": args.location_id}


def _items(args: argparse.Namespace) -> list[LocalImportItem]:
    paths = [Path(p) for p in args.paths]
    if args.name is not None and len(paths) > 1:
        raise CliError("--name applies to a single file; several files are named after them")
    return [
        LocalImportItem(path, args.name or path.stem, args.key_prefix + path.name) for path in paths
    ]


def _json(report: LocalImportReport) -> dict[str, Any]:
    entry: dict[str, Any] = {"path": str(report.item.path), "ok": report.ok}
    if report.result is None:
        entry["error"] = report.error
        return entry
    upload = report.result.upload
    entry.update(
        videoId=str(report.result.video_id),
        uploadStatus=str(report.result.status.upload_status),
        verified=report.result.verified,
        bucket=upload.bucket,
        objectKey=upload.key,
        size=upload.size,
        crc32c=upload.crc32c,
        partsSent=upload.parts_sent,
        partsResumed=upload.parts_resumed,
    )
    return entry


def _render(report: LocalImportReport) -> None:
    if report.result is None:
        # the error carries the server's text: no markup, no control characters
        error = inert(report.error or "")
        console.print(f"[red]failed[/] {inert(report.item.path)}: {error}")
        return
    upload = report.result.upload
    check = " [green]verified[/]" if report.result.verified else ""
    console.print(
        f"video [bold]{report.result.video_id}[/] from {inert(report.item.path)}: "
        f"{human_size(upload.size)}, CRC32C {hex_crc(upload.crc32c)}{check}"
    )
    console.print(
        f"  {inert(f's3://{upload.bucket}/{upload.key}')}  parts sent {upload.parts_sent}, "
        f"resumed {upload.parts_resumed}; import {report.result.status.upload_status}"
    )


async def run(args: argparse.Namespace) -> int:
    try:
        require_aiobotocore()
    except S3ExtraMissingError as exc:
        raise CliError(str(exc)) from None
    conn = _connection(args)
    destination = _destination(args, conn)
    items = _items(args)
    common: dict[str, Any] = {
        "description": args.description,
        "project_id": args.project_id,
        "file_name": args.file_name,
        "full_ingestion": args.full_ingestion,
        "select_team_id": args.team_id,
        "part_size": None if args.part_size is None else args.part_size * MiB,
        "resume": not args.no_resume,
        "state_dir": args.state_dir,
        "wait": args.wait,
        "timeout": args.timeout,
        "intervals": poll_intervals(args),
    }
    async with open_client(args) as px:
        with byte_bars(args) as progress:
            reports = []
            for item in items:
                task = progress.add_task(Path(item.path).name, total=None)
                try:
                    result = await px.imports.from_file(
                        item.path,
                        item.name,
                        object_key=item.object_key,
                        s3=conn,
                        progress=byte_callback(progress, task),
                        **destination,
                        **common,
                    )
                except (PixopError, OSError, ValueError) as exc:
                    reports.append(LocalImportReport(item, error=describe_error(exc)))
                    continue
                reports.append(LocalImportReport(item, result))
    if args.json:
        emit_json([_json(r) for r in reports])  # the failures are in it, item by item
        failed = sum(not r.ok for r in reports)
        if failed:
            err_console.print(f"[red]error:[/] {failed} of {len(reports)} files failed")
    else:
        for report in reports:
            _render(report)
    return 0 if all(r.ok for r in reports) else 1
