"""The import layering the README claims, checked on the source and at run time."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pixop_async

PACKAGE = Path(pixop_async.__file__).resolve().parent
ROOT = PACKAGE.parent

#: The demo's implementation runs the emulator; ``cli/demo_cmd.py`` imports it only when
#: ``pixop demo`` runs (checked at run time below), so no other command loads the emulator.
DEMO_MODULES = {"cli/demo.py", "cli/demo_steps.py", "cli/demo_local.py"}


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, *, top_level_only: bool) -> set[str]:
    """Absolute names of the modules ``path`` imports (relative imports resolved)."""
    tree = ast.parse(path.read_text(), str(path))
    package = _module_name(path)
    if path.name != "__init__.py":
        package = package.rpartition(".")[0]
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                prefix = ".".join(base)
                module = f"{prefix}.{node.module}" if node.module else prefix
                found.add(module)
                found.update(f"{module}.{alias.name}" for alias in node.names)
            elif node.module:
                found.add(node.module)
    return found


def _sdk_files() -> list[Path]:
    return [p for p in PACKAGE.rglob("*.py") if "emulator" not in p.relative_to(PACKAGE).parts]


def test_only_transfer_checksum_imports_google_crc32c_in_the_sdk() -> None:
    importers = {
        str(p.relative_to(PACKAGE))
        for p in _sdk_files()
        if any(m.split(".")[0] == "google_crc32c" for m in _imports(p, top_level_only=False))
    }
    assert importers == {"transfer/checksum.py"}


def test_nothing_outside_the_emulator_imports_it_at_module_level() -> None:
    importers = {
        str(p.relative_to(PACKAGE))
        for p in _sdk_files()
        if any(m.startswith("pixop_async.emulator") for m in _imports(p, top_level_only=True))
    }
    assert importers == DEMO_MODULES


def test_the_relative_import_resolver_sees_the_emulator_imports() -> None:
    # Guards the two tests above against a resolver that finds nothing.
    lazy = _imports(PACKAGE / "cli" / "emulator_cmd.py", top_level_only=False)
    assert "pixop_async.emulator" in lazy
    assert "pixop_async.emulator" not in _imports(
        PACKAGE / "cli" / "emulator_cmd.py", top_level_only=True
    )
    assert "google_crc32c" in _imports(PACKAGE / "transfer" / "checksum.py", top_level_only=True)


def _fresh_python(code: str) -> str:
    """What ``code`` prints in a new interpreter (module loading is per process)."""
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout


def test_importing_the_sdk_loads_neither_the_emulator_nor_rich_nor_pytest() -> None:
    code = (
        "import sys\n"
        "import pixop_async, pixop_async.webhooks, pixop_async.transfer, pixop_async.legacy\n"
        "import pixop_async.resources, pixop_async.models, pixop_async.pipeline\n"
        "import pixop_async.cli.entry\n"
        "bad = sorted(m for m in sys.modules if m.startswith('pixop_async.emulator')\n"
        "             or m.split('.')[0] in ('rich', 'pytest', '_pytest', 'pytest_asyncio'))\n"
        "print(bad)\n"
    )
    out = _fresh_python(code)
    assert out.strip() == "[]", out


def test_the_cli_loads_the_emulator_only_for_the_commands_that_run_it() -> None:
    code = (
        "import sys\n"
        "from pixop_async.cli import main\n"
        "main.build_parser()\n"
        "print(sorted(m for m in sys.modules if m.startswith('pixop_async.emulator')\n"
        "             or m.startswith('pixop_async.cli.demo_')\n"
        "             or m == 'pixop_async.cli.demo'))\n"
    )
    out = _fresh_python(code)
    assert out.strip() == "['pixop_async.cli.demo_cmd']", out


def test_a_client_that_never_receives_webhooks_loads_neither_cryptography_nor_aiohttp_web() -> None:
    code = (
        "import sys\n"
        "import pixop_async, pixop_async.webhooks\n"
        "pixop_async.Pixop(api_key='k')\n"
        "print(sorted({m.split('.')[0] for m in sys.modules if m.startswith('cryptography')}\n"
        "             | {m for m in sys.modules if m.startswith('aiohttp.web')}))\n"
        "from pixop_async.webhooks import WebhookReceiver, generate_key\n"
        "generate_key()\n"
        "print('cryptography' in sys.modules, 'aiohttp.web' in sys.modules)\n"
    )
    out = _fresh_python(code)
    assert out.split() == ["[]", "True", "True"], out
