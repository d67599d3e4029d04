"""Safe local file names from server-supplied names (pure)."""

from __future__ import annotations

import re
import unicodedata
from email.message import Message
from urllib.parse import unquote, urlsplit

#: Names Windows refuses whatever the extension; refused everywhere for portable files.
_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL"}
    | {f"COM{i}" for i in range(1, 10)}
    | {f"LPT{i}" for i in range(1, 10)}
)
_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')
MAX_NAME_BYTES = 200
#: Trimmed from both ends: spaces of any kind and dots (no hidden files, no ``..``).
_TRIMMED = " .\t\u00a0\u1680\u202f\u205f\u3000" + "".join(map(chr, range(0x2000, 0x200B)))


def _visible(char: str) -> str:
    """``char`` unless it is invisible or unencodable: format characters (bidi overrides
    that make ``exe.mp4`` show as ``4pm.exe``, zero-width spaces, BOMs) are dropped;
    controls, line/paragraph separators and lone surrogates become ``_``."""
    kind = unicodedata.category(char)
    if kind == "Cf":
        return ""
    return "_" if kind in ("Cc", "Cs", "Zl", "Zp") else char


def sanitize_filename(name: str | None, default: str = "download") -> str:
    """A file name that is safe to create in a directory of our choosing.

    Drops any directory part (both separators), control, invisible and shell-hostile
    characters, leading dots and spaces (no hidden files, no ``..``), trailing dots and
    spaces, and reserved device names (judged before the first dot, as Windows does);
    cuts the name to ``MAX_NAME_BYTES`` bytes of UTF-8 while keeping the extension.
    Falls back to ``default`` when nothing usable remains.
    """
    if not name:
        return default
    name = "".join(_visible(c) for c in unicodedata.normalize("NFC", name))
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("_", name)
    name = name.strip(_TRIMMED)
    if not name or set(name) <= {"_"}:
        return default
    _, dot, ext = name.rpartition(".")
    if not dot:
        ext = ""
    # Windows judges the part before the first dot, trailing spaces ignored: "CON .mp4"
    if name.split(".", 1)[0].rstrip(" ").upper() in _RESERVED:
        name = "_" + name
    encoded = name.encode()
    if len(encoded) > MAX_NAME_BYTES:
        suffix = ("." + ext) if dot and len(ext.encode()) < 20 else ""
        budget = MAX_NAME_BYTES - len(suffix.encode())
        head = (name[: -len(suffix)] if suffix else name).encode()[:budget]
        name = head.decode("utf-8", "ignore").rstrip(" .") + suffix
        if set(name.removesuffix(suffix)) <= {"_"}:  # the cut kept only replaced characters
            return default
    return name or default


def filename_from_disposition(value: str | None) -> str | None:
    """The file name offered by a ``Content-Disposition`` header (``filename*`` preferred)."""
    if not value:
        return None
    message = Message()
    message["content-disposition"] = value
    name = message.get_filename()
    return name or None


def filename_from_url(url: str) -> str | None:
    """The last path segment of ``url``, percent-decoded; None when the path has none."""
    path = urlsplit(url).path
    segment = unquote(path.rsplit("/", 1)[-1]) if path else ""
    return segment or None
