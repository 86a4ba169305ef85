"""``StatusLine`` through its public surface, on a real window's status bar offscreen: the message line
and what Recent messages keeps, an error about one payment that leaves when another row is selected, the
counts."""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QListWidget, QMainWindow

from epay_desktop.ui.window.status_line import HISTORY_LENGTH, StatusLine


def made(qtbot: Any) -> tuple[QMainWindow, StatusLine]:
    window = QMainWindow()
    qtbot.addWidget(window)
    action = QAction("Recent messages…", window)
    status = StatusLine(window, action)
    action.triggered.connect(status.open_history)
    window.statusBar().addPermanentWidget(status.history_button)
    window.statusBar().addPermanentWidget(status.counts_label)
    return window, status


def test_each_message_is_shown_and_the_last_ones_are_kept(qtbot: Any) -> None:
    window, status = made(qtbot)
    for i in range(HISTORY_LENGTH + 5):
        status.show(f"message {i}")
    assert window.statusBar().currentMessage() == f"message {HISTORY_LENGTH + 4}"
    said = [text for _at, text in status.history]
    assert len(said) == HISTORY_LENGTH
    assert said[0] == "message 5"
    assert said[-1] == f"message {HISTORY_LENGTH + 4}"
    status.show("")  # clears the line; nothing to keep
    assert window.statusBar().currentMessage() == ""
    assert len(status.history) == HISTORY_LENGTH


def test_an_error_about_one_payment_leaves_when_another_row_is_selected(qtbot: Any) -> None:
    window, status = made(qtbot)
    status.show_about("order-1", "Could not refresh the payment: 500")
    status.selection_moved("order-1")  # the same row again
    assert window.statusBar().currentMessage() == "Could not refresh the payment: 500"
    status.selection_moved("order-2")
    assert window.statusBar().currentMessage() == ""
    assert status.history[-1][1] == "Could not refresh the payment: 500"  # still in Recent messages

    status.show_about("order-1", "Could not refresh the payment: 503")
    status.selection_moved(None)  # no row selected
    assert window.statusBar().currentMessage() == ""


def test_a_message_about_nothing_in_particular_stays_when_the_selection_moves(qtbot: Any) -> None:
    window, status = made(qtbot)
    status.show_about("order-1", "Could not refresh the payment: 500")
    status.show("Refreshed 3 of 3 payments.")  # said since: about no one row
    status.selection_moved("order-2")
    assert window.statusBar().currentMessage() == "Refreshed 3 of 3 payments."


def test_the_counts_and_their_tooltip(qtbot: Any) -> None:
    _window, status = made(qtbot)
    status.show_counts("3 payments · Reserved: 2", "3 payments\nReserved: 2")
    assert status.counts_label.text() == "3 payments · Reserved: 2"
    assert status.counts_label.toolTip() == "3 payments\nReserved: 2"


def test_recent_messages_lists_what_was_said_newest_first(qtbot: Any) -> None:
    window, status = made(qtbot)
    window.show()
    for i in range(3):
        status.show(f"message {i}")
    assert status.history_dialog is None
    status.history_button.click()
    dialog = status.history_dialog
    assert dialog is not None
    qtbot.waitUntil(dialog.isVisible)
    assert dialog.parent() is window
    listing = dialog.findChild(QListWidget, "RecentMessagesList")
    assert listing is not None
    assert [listing.item(i).text()[10:] for i in range(listing.count())] == [
        "message 2",
        "message 1",
        "message 0",
    ]
    dialog.close()
