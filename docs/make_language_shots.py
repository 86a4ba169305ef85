"""Render the window and the cancel dialog in each language to docs/screenshots/ (for the README).

    uv run python docs/make_language_shots.py

The window comes from ``epay-desktop --screenshot FILE --lang CODE``; the cancel dialog is built here
from the same records the tests use (a 2 500 kr reservation of which 1 000 kr is captured), in the
payment's own currency for each language (NOK, DKK, EUR), and grabbed offscreen.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtWidgets import QApplication  # noqa: E402

from epay_desktop.domain import Currency, cancel_outcome  # noqa: E402
from epay_desktop.paths import resource  # noqa: E402
from epay_desktop.ui.dialogs.cancel import CancelDialog  # noqa: E402
from epay_desktop.ui.language import install_language  # noqa: E402
from epay_desktop.ui.theme import apply_style  # noqa: E402
from tests.ui.factories import tracked  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
CURRENCIES = {"en": Currency.NOK, "nb": Currency.NOK, "da": Currency.DKK, "fi": Currency.EUR}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for code in CURRENCIES:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "epay_desktop",
                "--screenshot",
                str(OUT / f"window-{code}.png"),
                "--lang",
                code,
            ],
            check=True,
            cwd=ROOT,
        )
    app = QApplication.instance() or QApplication(sys.argv[:1])
    apply_style(app)
    for code, currency in CURRENCIES.items():
        install_language(code, resource("translations"))
        payment = tracked(
            "order-ab12", "Espresso machine", amount=250_000, captured=100_000, currency=currency
        )
        assert payment.payment is not None
        outcome = cancel_outcome(payment.payment)
        assert outcome is not None
        dialog = CancelDialog(payment, outcome)
        dialog.show()
        app.processEvents()
        dialog.grab().save(str(OUT / f"cancel-{code}.png"))
        dialog.close()


if __name__ == "__main__":
    main()
