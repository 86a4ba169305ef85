"""epay-desktop: a desktop back-office for Vipps MobilePay ePayment merchants.

Layers (arrows point down only, enforced by import-linter in ``pyproject.toml``)::

    ui  ->  services  ->  api | store  ->  domain
    sandbox -> domain (shared value types only; never api)

``app`` is the composition root: the only module that may import ``ui`` and wire everything.
"""

from __future__ import annotations

__version__ = "0.1.0"
APP_NAME = "epay-desktop"
