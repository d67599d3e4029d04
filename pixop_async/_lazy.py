"""PEP 562 lazy exports: a package names what it offers, a module loads on first use.

``import pixop_async`` must stay cheap (issue #12: no model classes, no transfer engine, no
legacy client until a program touches them), while ``from pixop_async import Pixop`` and
``pixop_async.download_many`` keep working. A package lists ``name -> submodule`` and installs
:func:`exports`' two functions as its module ``__getattr__``/``__dir__``; type checkers see the
same names through ``if TYPE_CHECKING:`` imports in the package itself.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any


def exports(
    package: str, namespace: dict[str, Any], table: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], Iterable[str]]]:
    """``(__getattr__, __dir__)`` for ``package`` loading ``table[name]`` (a module relative to
    ``package``) on first access and caching the value in ``namespace`` (the package's
    globals), so later lookups cost a dict hit."""

    def __getattr__(name: str) -> Any:
        module = table.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module, package), name)
        namespace[name] = value
        return value

    def __dir__() -> Iterable[str]:
        return sorted(set(namespace) | set(table))

    return __getattr__, __dir__
