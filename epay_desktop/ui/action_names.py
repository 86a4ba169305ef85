"""Names of window actions that texts outside the window's action table refer to (an error's advice
says which action to use); declared once here, used by ``window/action_specs.py`` and ``errors.py``."""

from __future__ import annotations

from epay_desktop.i18n import N_

REFRESH_PAYMENT_TEXT = N_("Refresh this payment")
REFRESH_PAYMENT_SHORTCUT = "Shift+F5"

__all__ = ["REFRESH_PAYMENT_SHORTCUT", "REFRESH_PAYMENT_TEXT"]
