"""Packaging: the lean install, the ``cli`` hint, and the pytest plugin in a fresh project."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from importlib import metadata
from pathlib import Path

import pixop_async
from pixop_async.cli.entry import MISSING_CLI_EXTRA

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = (ROOT / "pyproject.toml").read_text()


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT)
    env.pop("PYTEST_ADDOPTS", None)
    return env


def _dependencies_block() -> str:
    start = PYPROJECT.index("dependencies = [")
    return PYPROJECT[start : PYPROJECT.index("]", start)]


def test_plain_install_pulls_neither_rich_nor_pytest_nor_a_capped_aiohttp() -> None:
    deps = _dependencies_block()
    assert "rich" not in deps
    assert "pytest" not in deps
    assert '"aiohttp>=3.10"' in deps  # users are not capped below 3.14
    assert 'cli = ["rich' in PYPROJECT
    assert 'testing = ["pytest>=8", "pytest-asyncio' in PYPROJECT
    assert '"pixop-async[cli,testing]"' in PYPROJECT
    assert '"aiohttp>=3.10,<3.14"' in PYPROJECT.split("dev = [", 1)[1]
    assert '"pixop_async.testing" = "pixop_async.testing"' in PYPROJECT


def test_cli_without_rich_prints_one_line_naming_the_extra() -> None:
    # A meta-path finder that hides rich, as in an install without the `cli` extra.
    code = textwrap.dedent(
        """
        import sys
        class Hide:
            def find_spec(self, name, path=None, target=None):
                if name == "rich" or name.startswith("rich."):
                    raise ModuleNotFoundError(name)
                return None
        sys.meta_path.insert(0, Hide())
        from pixop_async.cli.entry import main
        main(["--version"])
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], env=_env(), capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == MISSING_CLI_EXTRA
    assert "pixop-async[cli]" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_cli_with_rich_runs() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pixop_async", "--version"],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert pixop_async.__version__ in proc.stdout


def _plugin_installed() -> bool:
    eps = metadata.entry_points(group="pytest11")
    return any(ep.value == "pixop_async.testing" for ep in eps)


def test_readme_plugin_example_runs_in_a_fresh_project_in_strict_mode(tmp_path: Path) -> None:
    """The README's test, as written, in a project with no asyncio_mode set (strict)."""
    (tmp_path / "test_mine.py").write_text(
        textwrap.dedent(
            """
            async def test_projects(pixop_client):
                project = await pixop_client.projects.create("from my test")
                assert (await pixop_client.projects.get(project.id)).name == "from my test"
            """
        )
    )
    (tmp_path / "pytest.ini").write_text("[pytest]\nasyncio_mode = strict\n")
    args = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    if not _plugin_installed():  # an install made before the entry point existed
        args += ["-p", "pixop_async.testing"]
    proc = subprocess.run(
        args, cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=240
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "1 passed" in proc.stdout
