"""epay-desktop: a desktop back-office for Vipps MobilePay ePayment merchants.

Layers (arrows point down only, enforced by import-linter in ``pyproject.toml``)::

    ui  ->  services  ->  api | store  ->  domain
    sandbox -> domain (shared value types only; never api)

``app`` is the composition root: the only module that may import ``ui`` and wire everything.
"""

from __future__ import annotations

try:
    # pyproject.toml's version, written into the package by every build and by `uv sync` (see
    # [tool.hatch.build.hooks.version]): reading it here costs nothing at start-up, unlike
    # importlib.metadata (~40 ms).
    from epay_desktop._version import __version__ as __version__
except ImportError:  # the sources run without being installed: no build wrote the file
    __version__ = "0+unknown"
APP_NAME = "epay-desktop"
