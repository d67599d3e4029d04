"""The lighter import of issue #12, checked at run time in fresh interpreters.

``import pixop_async`` loads no client, no model, no transfer engine; a client loads the
resources (and their model modules) a program touches, and nothing it does not.
"""

from __future__ import annotations

import importlib
import json
import sys

import pytest

import pixop_async
import pixop_async.models
import pixop_async.transfer
from tests.unit.test_import_layering import _fresh_python

#: Never loaded by importing the SDK or by a client that does not use them.
HEAVY = (
    "pixop_async.emulator",
    "cryptography",
    "aiohttp.web",
    "rich",
    "aiobotocore",
    "botocore",
    "pytest",
)


def _loaded(code: str) -> list[str]:
    """Modules of ``pixop_async`` and of :data:`HEAVY` loaded after ``code`` runs."""
    probe = (
        "import json, sys\n"
        f"{code}\n"
        f"heavy = {HEAVY!r}\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('pixop_async')\n"
        "      or any(m == h or m.startswith(h + '.') for h in heavy))))\n"
    )
    return list(json.loads(_fresh_python(probe)))


def test_importing_the_package_loads_only_its_core() -> None:
    loaded = _loaded("import pixop_async")
    assert loaded == [
        "pixop_async",
        "pixop_async._lazy",
        "pixop_async._logging",
        "pixop_async._version",
        "pixop_async.errors",
        "pixop_async.ids",  # NewTypes over uuid.UUID: static types, nothing to build
    ]


def test_a_client_loads_no_resource_model_transfer_or_legacy_module_until_used() -> None:
    loaded = _loaded("from pixop_async import Pixop\nPixop(api_key='k')")
    assert not [m for m in loaded if not m.startswith("pixop_async")], loaded
    for absent in ("models", "resources", "transfer", "legacy", "webhooks", "polling"):
        assert f"pixop_async.{absent}" not in loaded, loaded
    assert "pixop_async.client" in loaded  # the probe did load what it imported


def test_a_resource_loads_its_own_models_and_not_those_of_unused_resources() -> None:
    loaded = _loaded("from pixop_async import Pixop\npx = Pixop(api_key='k')\npx.projects")
    assert "pixop_async.resources.projects" in loaded
    assert "pixop_async.models.account" in loaded
    unused = (
        "pixop_async.models.videos",
        "pixop_async.models.billing",
        "pixop_async.models.processing_options",
        "pixop_async.models.legacy",
        "pixop_async.models.webhooks",
        "pixop_async.resources.imports",
        "pixop_async.transfer",
    )
    assert [m for m in unused if m in loaded] == []


def test_waiting_on_imports_loads_neither_the_transfer_engine_nor_webhooks() -> None:
    loaded = _loaded(
        "from pixop_async import Pixop\npx = Pixop(api_key='k')\npx.imports\npx.processing"
    )
    assert "pixop_async.resources.imports" in loaded
    assert [
        m for m in loaded if m.startswith(("pixop_async.transfer", "pixop_async.webhooks"))
    ] == []
    assert [m for m in loaded if not m.startswith("pixop_async")] == []


@pytest.mark.parametrize("package", [pixop_async, pixop_async.models, pixop_async.transfer])
def test_every_lazy_export_is_the_object_its_module_defines(package: object) -> None:
    table: dict[str, str] = package._LAZY
    exported = set(package.__all__)
    assert set(table) <= exported
    for name in sorted(exported):
        value = getattr(package, name)
        assert name in dir(package)
        if name in table:
            module = importlib.import_module(table[name], package.__name__)
            assert value is getattr(module, name), name


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Pixopp'"):
        _ = pixop_async.Pixopp  # type: ignore[attr-defined]
    with pytest.raises(ImportError):
        exec("from pixop_async.models import Acount", {})


def test_star_import_gives_every_public_name() -> None:
    namespace: dict[str, object] = {}
    exec("from pixop_async import *", namespace)
    assert set(pixop_async.__all__) <= set(namespace)
    assert namespace["Pixop"] is pixop_async.Pixop


def test_the_transfer_config_is_built_on_first_use_and_can_be_given() -> None:
    from pixop_async import Pixop, TransferConfig

    given = TransferConfig(connections=3)
    assert Pixop(api_key="k", transfer=given).transfer_config is given
    px = Pixop(api_key="k")
    assert px.transfer_config == TransferConfig()
    assert px.transfer_config is px.transfer_config
    px.transfer_config = given
    assert px.transfers.config is given


def test_a_pure_transfer_module_loads_neither_aiohttp_nor_the_engine() -> None:
    # pixop_async.transfer imports its public names lazily: a pure planning module loads
    # that package and its own imports only
    probe = (
        "import json, sys\n"
        "import pixop_async.transfer.segments\n"
        "print(json.dumps(sorted(m for m in sys.modules\n"
        "      if m.startswith('pixop_async') or m.split('.')[0] in ('aiohttp', 'yarl'))))\n"
    )
    loaded = json.loads(_fresh_python(probe))
    assert not [m for m in loaded if m.startswith(("aiohttp", "yarl"))], loaded
    assert "pixop_async.transfer.download" not in loaded
    assert "pixop_async.transfer.segments" in loaded


def test_every_public_transfer_name_imports_and_download_stays_the_function() -> None:
    # whatever was imported first, the package's ``download`` is the function (the import
    # system sets a loaded submodule on its package: the one named ``download`` must not win)
    names = ", ".join(pixop_async.transfer.__all__)
    probe = (
        "import pixop_async.transfer.download, pixop_async.transfer.bulk\n"
        f"from pixop_async.transfer import {names}\n"
        "import pixop_async.transfer as t\n"
        "print(callable(download), t.download is download, type(download).__name__)\n"
    )
    assert _fresh_python(probe).split() == ["True", "True", "function"]
    from pixop_async.transfer import download

    assert download is sys.modules["pixop_async.transfer.download"].download
