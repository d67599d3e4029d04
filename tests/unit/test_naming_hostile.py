"""Server-offered file names that are invisible, unencodable or reserved on Windows."""

from __future__ import annotations

import pytest

from pixop_async.transfer._target import server_name
from pixop_async.transfer.naming import sanitize_filename


@pytest.mark.parametrize(
    ("offered", "safe"),
    [
        ("\udcff.mp4", "_.mp4"),  # a lone surrogate (JSON "\udcff") raised UnicodeEncodeError
        ("clip\u202e4pm.exe", "clip4pm.exe"),  # a bidi override hid the real extension
        ("x\u200b.mp4", "x.mp4"),  # zero-width space
        ("\ufeff", "download"),
        ("\u3000clip.mp4\u3000", "clip.mp4"),
        ("a\u0085b\u2028c", "a_b_c"),  # C1 control, line separator
        ("lpt1.txt.mp4", "_lpt1.txt.mp4"),  # Windows judges the part before the first dot
        ("CON .mp4", "_CON .mp4"),  # ... with trailing spaces ignored
        ("console.mp4", "console.mp4"),
    ],
)
def test_hostile_names_are_made_safe(offered: str, safe: str) -> None:
    assert server_name(offered) == safe
    safe.encode("utf-8")  # always encodable


def test_nfc_and_nfd_twins_are_one_name() -> None:
    assert sanitize_filename("e\u0301.mp4") == sanitize_filename("\u00e9.mp4") == "\u00e9.mp4"
