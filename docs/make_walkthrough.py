"""Renders the trainer's walk-through (README "Training from the window alone") to docs/walkthrough/:
the Demo window driven through its own actions and dialogs, one PNG per step, offscreen.

    uv run python docs/make_walkthrough.py
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication, QWidget

from epay_desktop.app import open_demo
from epay_desktop.ui.aio import new_event_loop
from epay_desktop.ui.window.main_window import MainWindow

OUT = Path(__file__).resolve().parent / "walkthrough"


async def until(predicate: object, limit: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + limit
    while not predicate():  # type: ignore[operator]
        if loop.time() > end:
            raise TimeoutError("the window did not get there")
        await asyncio.sleep(0.02)


async def shot(widget: QWidget, name: str) -> None:
    # Let the loop paint what changed (never processEvents() inside a coroutine: it stalls qasync).
    await asyncio.sleep(0.1)
    widget.grab().save(str(OUT / name))
    print("wrote", OUT / name)


async def walk() -> None:
    with tempfile.TemporaryDirectory() as home:
        session = await open_demo(Path(home) / "register.sqlite3")
        window = MainWindow(session.desk, show_error_dialogs=False, auto_refresh_ms=3_600_000)
        window.resize(1280, 760)
        window.show()
        try:
            await window.load(refresh=False)
            panel = window.customer_panel
            assert panel is not None
            panel.new_button.click()
            await until(lambda: panel.dialog is not None and panel.dialog.isVisible())
            assert panel.dialog is not None
            panel.dialog.amount.setText("1000,00")
            await shot(panel.dialog, "1-new-demo-payment.png")
            panel.dialog.ok_button.click()
            await until(lambda: "waits for the customer" in window.statusBar().currentMessage())
            reference = window.selected_reference()
            assert reference is not None
            await until(lambda: panel.buttons["approve"].isEnabled())
            panel.buttons["approve"].click()
            await until(lambda: window.action("capture-payment").isEnabled())
            await shot(window, "2-approved.png")
            window.action("capture-payment").trigger()
            await until(lambda: window.move_flow.dialog is not None and window.move_flow.dialog.isVisible())
            dialog = window.move_flow.dialog
            assert dialog is not None
            dialog.amount_field.edit.setText("250,00")
            await shot(dialog, "3-capture-250.png")
            dialog.move_button.click()
            await until(lambda: not window.runner.is_running(f"capture:{reference}"))
            window.action("cancel-payment").trigger()
            await until(
                lambda: window.cancel_flow.dialog is not None and window.cancel_flow.dialog.isVisible()
            )
            assert window.cancel_flow.dialog is not None
            await shot(window.cancel_flow.dialog, "4-cancel-the-rest.png")
            window.cancel_flow.dialog.cancel_button.click()
            await until(lambda: "released" in window.statusBar().currentMessage())
            await shot(window, "5-cancelled-750-captured-250.png")
            window.action("refund-payment").trigger()
            await until(lambda: window.move_flow.dialog is not None and window.move_flow.dialog.isVisible())
            dialog = window.move_flow.dialog
            assert dialog is not None
            dialog.amount_field.edit.setText("100")
            await shot(dialog, "6-refund-100.png")
            dialog.move_button.click()
            await until(lambda: "Refunded" in window.statusBar().currentMessage())
            await shot(window, "7-refunded-100.png")
        finally:
            await window.shutdown()
            window.close()
            await session.aclose()


def main() -> int:
    OUT.mkdir(exist_ok=True)
    app = QApplication.instance() or QApplication(sys.argv)
    app.setQuitOnLastWindowClosed(False)
    loop = new_event_loop(app)  # type: ignore[arg-type]
    loop.run_until_complete(walk())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
