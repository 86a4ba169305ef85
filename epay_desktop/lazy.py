"""Lazy package exports: ``from package import Name`` imports Name's module only when first asked.

Used by the packages whose imports are heavy (``services`` pulls in httpx and SQLite; ``app`` the whole
composition), so the window can paint before they load. Each package keeps a ``TYPE_CHECKING`` block
with the real imports for the type checker.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def exports(
    package: str, where: Mapping[str, str], namespace: dict[str, Any]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """A module ``__getattr__`` and ``__dir__`` for ``package``: ``where`` maps each exported name to the
    module that defines it; a loaded name is stored in ``namespace`` so the next lookup is plain."""

    def get_attribute(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    def list_names() -> list[str]:
        return sorted(where)

    return get_attribute, list_names
