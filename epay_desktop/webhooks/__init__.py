"""``epay-webhooks``: the small service that receives a shop's webhooks into its register.

Belongs here: the Starlette app (verify, de-duplicate, store, answer) and its command. Sits above
``services`` like ``ui`` and ``cli``: it verifies with ``api.webhooks`` and stores through
``services.webhook_inbox``. No Qt.
"""

from __future__ import annotations

from epay_desktop.webhooks.receiver import create_receiver

__all__ = ["create_receiver"]
