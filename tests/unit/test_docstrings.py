"""Every public method of every resource has a docstring (the API reference is built from them)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pixop_async.resources as resources

#: Methods in modules that parallel work is rewriting; remove once that work is merged.
PENDING = {"pixop_async.resources.imports.ImportsResource.status"}


def public_methods() -> list[tuple[str, object]]:
    found = []
    for info in pkgutil.iter_modules(resources.__path__):
        module = importlib.import_module(f"{resources.__name__}.{info.name}")
        for cname, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ != module.__name__ or cname.startswith("_"):
                continue
            for name, member in vars(cls).items():
                if not name.startswith("_") and callable(member):
                    found.append((f"{module.__name__}.{cname}.{name}", member))
    return found


def test_every_public_resource_method_has_a_docstring() -> None:
    methods = public_methods()
    assert len(methods) > 70  # the walk really found the resources
    missing = [name for name, member in methods if not (inspect.getdoc(member) or "").strip()]
    assert sorted(set(missing) - PENDING) == []
