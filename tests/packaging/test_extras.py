"""Packaging: the lean install, the ``cli`` hint, and the pytest plugin in a fresh project."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from importlib import metadata
from pathlib import Path

import pytest

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
    assert '"aiohttp>=3.10.7"' in deps  # users are not capped below 3.14
    assert 'cli = ["rich' in PYPROJECT
    assert 'testing = ["pytest>=8", "pytest-asyncio' in PYPROJECT
    assert '"pixop-async[cli,testing]"' in PYPROJECT
    assert '"aiohttp>=3.10.7,<3.14"' in PYPROJECT.split("dev = [", 1)[1]
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


def _readme_test_example() -> str:
    """The README's emulator-fixture example, exactly as printed."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Testing your own code against the emulator", 1)[1]
    block = section.split("```python\n", 1)[1].split("```", 1)[0]
    assert block.startswith("# test_mine.py\n")
    return block


def _pytest(tmp_path: Path, *extra: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    args = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *extra]
    if not _plugin_installed():  # an install made before the entry point existed
        args += ["-p", "pixop_async.testing"]
    proc = subprocess.run(
        args, cwd=tmp_path, env=env or _env(), capture_output=True, text=True, timeout=240
    )
    return proc.returncode, proc.stdout[-3000:] + proc.stderr[-2000:]


@pytest.mark.slow
def test_readme_plugin_example_runs_in_a_fresh_project_in_strict_mode(tmp_path: Path) -> None:
    """The README's test, as written, in a project with no conftest and strict mode."""
    (tmp_path / "test_mine.py").write_text(_readme_test_example())
    (tmp_path / "pytest.ini").write_text("[pytest]\nasyncio_mode = strict\n")
    code, out = _pytest(tmp_path)
    assert code == 0, out
    assert "1 passed" in out


@pytest.mark.slow
def test_without_pytest_asyncio_the_fixtures_name_the_extra(tmp_path: Path) -> None:
    """A project with pytest but no pytest-asyncio: its own tests still run."""
    shadow = tmp_path / "shadow"
    shadow.mkdir()
    (shadow / "pytest_asyncio.py").write_text("raise ImportError('not installed')\n")
    project = tmp_path / "project"
    project.mkdir()
    (project / "test_mine.py").write_text(
        "def test_plain():\n    assert True\n\ndef test_uses_emulator(pixop_emulator):\n    pass\n"
    )
    env = _env()
    env["PYTHONPATH"] = f"{shadow}{os.pathsep}{ROOT}"
    code, out = _pytest(project, "-p", "no:asyncio", env=env)
    assert code == 1, out
    assert "1 passed" in out and "1 error" in out
    assert "pip install 'pixop-async[testing]'" in out


def test_lower_bounds_are_pinnable_and_their_run_stays_out_of_ci() -> None:
    # .ci/lowest-deps turns each `name>=X` into `name==X`; a bound it cannot pin would make
    # that run fail, and its time is kept out of .ci/run on purpose.
    import tomllib

    project = tomllib.loads(PYPROJECT)["project"]
    for spec in [*project["dependencies"], *project["optional-dependencies"]["cli"]]:
        name, _, bound = spec.partition(">=")
        assert name and bound and bound[0].isdigit() and "," not in bound, spec
    script = ROOT / ".ci" / "lowest-deps"
    assert os.access(script, os.X_OK)
    assert "lowest-deps" not in (ROOT / ".ci" / "run").read_text()
    assert project["requires-python"] == ">=3.11"  # what CI and the lower-bound run use
