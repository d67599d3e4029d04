"""Breaker b17a: the lazy ``pixop_async.transfer`` package seen the ways users touch it.

Fresh interpreters (module loading is per process) for concurrent first use from threads
and for each import order; pickling and copying of the public objects; ``mypy --strict``
on a user file importing the names every way (a misspelt name must stay an error).
"""

from __future__ import annotations

import copy
import os
import pickle
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import pixop_async.transfer as transfer
from tests.unit.test_import_layering import _fresh_python

ROOT = Path(__file__).resolve().parents[2]


def test_threads_touching_every_name_at_once_get_the_real_objects() -> None:
    probe = textwrap.dedent(
        """
        import sys, threading, types
        import pixop_async.transfer as t
        names = list(t.__all__) * 4
        barrier = threading.Barrier(len(names))
        got, errors = {}, []
        def use(name):
            barrier.wait()
            try:
                got.setdefault(name, set()).add(id(getattr(t, name)))
            except BaseException as exc:
                errors.append(repr(exc))
        threads = [threading.Thread(target=use, args=(n,)) for n in names]
        [x.start() for x in threads]
        [x.join() for x in threads]
        modules = [n for n in t.__all__ if isinstance(getattr(t, n), types.ModuleType)]
        split = [n for n, ids in got.items() if len(ids) != 1]
        function = sys.modules['pixop_async.transfer.download'].download
        print(errors, modules, split, t.download is function)
        """
    )
    assert _fresh_python(probe).strip() == "[] [] [] True"


@pytest.mark.parametrize(
    "first",
    [
        "import pixop_async.transfer.download",
        "from pixop_async.transfer.download import download as _f",
        "import pixop_async.transfer.bulk",
        "import pixop_async.transfer.quick",
        "import pixop_async",
        "from pixop_async import download_many",
    ],
)
def test_download_is_the_function_whatever_was_imported_first(first: str) -> None:
    probe = (
        f"{first}\n"
        "import sys, pixop_async.transfer as t\n"
        "from pixop_async.transfer import *\n"
        "mod = sys.modules['pixop_async.transfer.download']\n"
        "print(download is t.download is mod.download, type(t.download).__name__,\n"
        "      sorted(set(t.__all__) - set(dir(t))))\n"
    )
    assert _fresh_python(probe).split() == ["True", "function", "[]"]


@pytest.mark.parametrize("name", transfer.__all__)
def test_every_public_object_pickles_and_copies_to_itself(name: str) -> None:
    value = getattr(transfer, name)
    assert pickle.loads(pickle.dumps(value)) is value
    assert copy.deepcopy(value) is value


def test_public_instances_pickle_round_trip() -> None:
    config = transfer.TransferConfig(connections=3)
    assert pickle.loads(pickle.dumps(config)) == config
    status = next(iter(transfer.ItemStatus))
    assert pickle.loads(pickle.dumps(status)) is status


USER_FILE = """
from __future__ import annotations

import pixop_async.transfer as t
from pixop_async.transfer import DownloadResult, TransferConfig, download, download_many
from pixop_async.transfer.download import download as direct


async def fetch() -> DownloadResult:
    config: TransferConfig = t.TransferConfig(connections=2)
    assert download is direct
    _ = download_many, t.crc32c_file, t.Scheduler, t.ItemStatus, t.upload_file
    return await t.download(None, "u", "d", config=config)  # type: ignore[arg-type]


oops = t.downlaod
"""


@pytest.mark.slow
def test_mypy_sees_the_lazy_names_and_refuses_a_misspelt_one(tmp_path: Path) -> None:
    mypy = shutil.which("mypy", path=str(Path(sys.executable).parent)) or shutil.which("mypy")
    if mypy is None:
        pytest.skip("mypy is not installed")
    (tmp_path / "user.py").write_text(USER_FILE)
    done = subprocess.run(
        [mypy, "--strict", "--no-incremental", "user.py"],
        cwd=tmp_path,
        env={**os.environ, "MYPYPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    out = done.stdout + done.stderr
    errors = [line for line in out.splitlines() if ": error:" in line]
    assert len(errors) == 1, out
    assert 'Module has no attribute "downlaod"' in errors[0], out
