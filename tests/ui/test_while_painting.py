"""``first_paint.while_painting``: the work on a worker thread, ``meanwhile`` on the caller's thread at the
same time, the work's result or error handed back in every case."""

from __future__ import annotations

import threading

import pytest

from epay_desktop.ui.first_paint import build_qt_enums, collection_held, while_painting


def test_meanwhile_runs_on_the_callers_thread_while_the_work_runs(qapp: object) -> None:
    caller = threading.get_ident()
    meanwhile_ran = threading.Event()
    seen: dict[str, int] = {}

    def work() -> str:
        seen["work"] = threading.get_ident()
        # Finishes only once ``meanwhile`` ran: both were under way at once.
        assert meanwhile_ran.wait(timeout=10), "meanwhile did not run while the work was waiting"
        return "rows"

    def meanwhile() -> None:
        seen["meanwhile"] = threading.get_ident()
        meanwhile_ran.set()

    assert while_painting(work, meanwhile=meanwhile) == "rows"
    assert seen["meanwhile"] == caller
    assert seen["work"] != caller


def test_the_work_is_waited_for_when_meanwhile_raises(qapp: object) -> None:
    finished = threading.Event()

    def work() -> None:
        threading.Event().wait(0.05)
        finished.set()

    def meanwhile() -> None:
        raise RuntimeError("meanwhile failed")

    with pytest.raises(RuntimeError, match="meanwhile failed"):
        while_painting(work, meanwhile=meanwhile)
    assert finished.is_set(), "the worker was left running"


def test_the_works_error_is_raised_on_the_callers_thread(qapp: object) -> None:
    def work() -> None:
        raise LookupError("no register")

    with pytest.raises(LookupError, match="no register"):
        while_painting(work, meanwhile=build_qt_enums)


def test_build_qt_enums_gives_the_enums_the_table_needs(qapp: object) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QStyle

    assert build_qt_enums() == (Qt.Orientation.Horizontal, QStyle.StateFlag.State_None)


def test_work_done_before_meanwhile_returns_is_handed_back_too(qapp: object) -> None:
    # The worker's "done" event is then waiting in Qt's queue, or delivered already: either way the
    # result comes back, and nothing is left to wait for.
    finished = threading.Event()

    def work() -> str:
        finished.set()
        return "rows"

    def meanwhile() -> None:
        assert finished.wait(timeout=10)

    assert while_painting(work, meanwhile=meanwhile) == "rows"
    assert while_painting(work) == "rows"


def test_collection_is_held_inside_and_as_it_was_after(qapp: object) -> None:
    import gc

    was = gc.isenabled()
    try:
        gc.enable()
        with collection_held():
            assert not gc.isenabled()
            with collection_held():  # nested: still held, and not turned on by the inner one
                assert not gc.isenabled()
            assert not gc.isenabled()
        assert gc.isenabled()
        gc.disable()
        with pytest.raises(LookupError), collection_held():
            raise LookupError("failed inside")
        assert not gc.isenabled()  # it was off before: left off
        gc.enable()
        with pytest.raises(LookupError), collection_held():
            raise LookupError("failed inside")
        assert gc.isenabled()
    finally:
        if was:
            gc.enable()
        else:
            gc.disable()
