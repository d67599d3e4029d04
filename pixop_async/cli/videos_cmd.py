"""``pixop videos``: list, show, walk derived videos, delete."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from ..models.videos import Video
from .common import add_common_options, console, model_table, open_client, show


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("videos", help="list, show and delete videos")
    actions = parser.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="list videos")
    listing.add_argument("--team-id", default=None)
    listing.add_argument("--project-id", default=None)
    listing.add_argument("--master-video-id", default=None)
    listing.add_argument(
        "--clips", choices=("include", "exclude", "only"), default=None, help="clip filter"
    )
    listing.add_argument("--limit", type=int, default=None, help="stop after this many")
    get = actions.add_parser("get", help="show one video")
    get.add_argument("video_id")
    derived = actions.add_parser("derived", help="videos derived from one (clips, processed)")
    derived.add_argument("video_id")
    derived.add_argument("--limit", type=int, default=None, help="stop after this many")
    delete = actions.add_parser("delete", help="delete a video and everything derived from it")
    delete.add_argument("video_id")
    delete.add_argument(
        "--expect-derived",
        nargs="*",
        default=None,
        metavar="ID",
        help="refuse unless the derived videos are exactly these (none when no ID is given)",
    )
    for sub in (listing, get, derived, delete):
        add_common_options(sub)
    parser.set_defaults(func=run)


def _status(video: Video) -> str:
    flags = video.flags
    if flags.is_processing:
        return "processing"
    if flags.is_ingesting:
        return "ingesting"
    if flags.is_ingested:
        return "ready"
    state = video.upload.upload_state if video.upload else None
    if state is not None and state.upload_status is not None:
        return f"import {state.upload_status.value.lower()}"
    return "-"


def _kind(video: Video) -> str:
    flags = video.flags
    if flags.is_clip:
        return "clip"
    if flags.is_processed or video.processing is not None:
        return "processed"
    return "master" if flags.is_master else "-"


def _size(video: Video) -> int | None:
    if video.upload and video.upload.file:
        return video.upload.file.size
    if video.ingestion and video.ingestion.metadata.size is not None:
        return video.ingestion.metadata.size
    return None


def _rows(videos: Sequence[Video]) -> list[tuple[Any, ...]]:
    return [
        (v.name, v.id, _kind(v), _status(v), _size(v), v.created_at.isoformat()) for v in videos
    ]


def _print_table(title: str, videos: Sequence[Video]) -> None:
    columns = ("name", "id", "kind", "status", "bytes", "created")
    console.print(model_table(title, columns, _rows(videos)))


def _print_video(video: Video) -> None:
    console.print(f"[bold]{video.name}[/]  [dim]{video.id}[/]")
    console.print(f"  kind {_kind(video)}, status {_status(video)}, size {_size(video) or '-'}")
    console.print(f"  project {video.project_id}, team {video.team_id}")
    if video.master_video is not None:
        console.print(f"  master video {video.master_video.id}")
    meta = video.ingestion.metadata if video.ingestion else None
    if meta is not None and meta.frame_width:
        console.print(
            f"  {meta.frame_width}x{meta.frame_height} {meta.codec_name or ''}, "
            f"{(meta.duration_in_millis or 0) / 1000:.1f} s"
        )


async def run(args: argparse.Namespace) -> int:
    async with open_client(args) as px:
        if args.action == "list":
            clip_mode = args.clips.upper() if args.clips else None
            videos = await px.videos.list(
                team_id=args.team_id,
                project_id=args.project_id,
                master_video_id=args.master_video_id,
                clip_mode=clip_mode,
                page_size=100,
            ).to_list(args.limit)
            show(args, videos, lambda: _print_table("Videos", videos))
        elif args.action == "derived":
            videos = await px.videos.derived(args.video_id, page_size=100).to_list(args.limit)
            show(args, videos, lambda: _print_table(f"Derived from {args.video_id}", videos))
        elif args.action == "get":
            video = await px.videos.get(args.video_id)
            show(args, video, lambda: _print_video(video))
        else:
            deleted = await px.videos.delete(
                args.video_id, expected_derived_ids=args.expect_derived
            )
            ids = [str(d) for d in deleted] or [args.video_id]
            show(
                args,
                {"deleted": ids},
                lambda: console.print(f"deleted {len(ids)} video(s): {', '.join(ids)}"),
            )
        return 0
