"""Bulk manifests (CSV or JSON) and the state file that makes bulk imports resumable.

A manifest lists either imports (``url``, ``name`` and optionally ``project_id``,
``crc32c``) or downloads (``video_id`` and optionally ``dest``). CSV needs a header row;
JSON is a list of objects (or ``{"imports": [...]}`` / ``{"downloads": [...]}``).
Parsing is pure and reports the first bad row by number.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from .common import CliError
from .support import parse_crc32c

IMPORT_FIELDS = ("url", "name", "project_id", "crc32c")
DOWNLOAD_FIELDS = ("video_id", "dest")
STATE_SUFFIX = ".pixop-state.json"


@attrs.frozen
class ImportItem:
    url: str
    name: str
    project_id: str | None = None
    crc32c: int | None = None

    @property
    def key(self) -> str:
        """What identifies the item across runs (a changed URL or name is a new item)."""
        return f"{self.name}\n{self.url}"

    @property
    def label(self) -> str:
        return self.name


@attrs.frozen
class DownloadItem:
    video_id: str
    dest: str | None = None

    @property
    def label(self) -> str:
        return self.video_id


Item = ImportItem | DownloadItem


def _text(row: Mapping[str, Any], field: str, where: str, required: bool) -> str | None:
    value = row.get(field)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise CliError(f"{where}: '{field}' is required")
        return None
    if not isinstance(value, str | int):
        raise CliError(f"{where}: '{field}' must be text")
    return str(value).strip()


def _crc(row: Mapping[str, Any], where: str) -> int | None:
    value = row.get("crc32c")
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise CliError(f"{where}: 'crc32c' must be a number")
    try:
        return parse_crc32c(value.strip())
    except CliError as exc:
        raise CliError(f"{where}: {exc}") from None


def item_from_row(row: Mapping[str, Any], where: str) -> Item:
    """One manifest row as an import or a download item."""
    if not isinstance(row, Mapping):
        raise CliError(f"{where}: must be an object")
    keys = {k for k, v in row.items() if v not in (None, "")}
    if "video_id" in keys:
        extra = keys - set(DOWNLOAD_FIELDS)
        if extra:
            raise CliError(f"{where}: unexpected field(s) for a download: {sorted(extra)}")
        vid = _text(row, "video_id", where, True)
        assert vid is not None
        return DownloadItem(vid, _text(row, "dest", where, False))
    extra = keys - set(IMPORT_FIELDS)
    if extra:
        raise CliError(f"{where}: unexpected field(s) for an import: {sorted(extra)}")
    url = _text(row, "url", where, True)
    name = _text(row, "name", where, True)
    assert url is not None and name is not None
    return ImportItem(url, name, _text(row, "project_id", where, False), _crc(row, where))


def _rows_from_json(text: str) -> list[Any]:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise CliError(f"manifest is not valid JSON ({exc})") from None
    if isinstance(data, dict):
        lists = [data[k] for k in ("imports", "downloads") if k in data]
        if len(lists) != 1 or set(data) - {"imports", "downloads"}:
            raise CliError("a JSON manifest object must have exactly one of imports/downloads")
        data = lists[0]
    if not isinstance(data, list):
        raise CliError("a JSON manifest must be a list of items")
    return data


def _rows_from_csv(text: str) -> list[dict[str, Any]]:
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames:
        raise CliError("a CSV manifest needs a header row (url,name,... or video_id,dest)")
    return [dict(row) for row in reader]


def parse_manifest(text: str, *, is_json: bool) -> list[Item]:
    """All items of a manifest; they must all be imports or all downloads."""
    rows = _rows_from_json(text) if is_json else _rows_from_csv(text)
    offset = 0 if is_json else 2  # CSV rows are numbered as lines, after the header
    items = [item_from_row(row, f"item {i + offset}") for i, row in enumerate(rows)]
    if not items:
        raise CliError("the manifest lists no items")
    if len({type(item) for item in items}) > 1:
        raise CliError("a manifest lists imports or downloads, not both")
    return items


def load_manifest(path: Path) -> list[Item]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise CliError(f"manifest {path} is not UTF-8 text") from None
    is_json = path.suffix.lower() == ".json" or text.lstrip().startswith(("[", "{"))
    return parse_manifest(text, is_json=is_json)


class ImportState:
    """``{item key: video id}`` of imports already started, saved beside the manifest.

    Each entry is written (atomically) as soon as the API has created the video, so an
    interrupted run never loses track of an import that is under way.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.videos: dict[str, str] = {}
        if path.is_file():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                self.videos = {str(k): str(v) for k, v in data.get("imports", {}).items()}
            except (ValueError, AttributeError):
                raise CliError(f"cannot read the bulk state file {path}") from None

    @classmethod
    def beside(cls, manifest: Path) -> ImportState:
        return cls(manifest.with_name(manifest.name + STATE_SUFFIX))

    def get(self, item: ImportItem) -> str | None:
        return self.videos.get(item.key)

    def forget(self, item: ImportItem) -> None:
        if self.videos.pop(item.key, None) is not None:
            self.save()

    def record(self, item: ImportItem, video_id: str) -> None:
        self.videos[item.key] = video_id
        self.save()

    def save(self) -> None:
        payload = json.dumps({"version": 1, "imports": self.videos}, indent=2)
        fd, temp = tempfile.mkstemp(prefix=".pixop-state-", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(payload)
            os.replace(temp, self.path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
