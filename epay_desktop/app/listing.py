"""The list first: right after the first paint, the register's rows are read straight from its file
and painted, before asyncio, the network stack, the keyring and the TLS context are imported or built.

The register is opened here (on a worker thread while Qt keeps the window painted), and the same
open register is handed to the profile's desk when its session opens, with the rows read: the desk's
first load publishes those rows instead of reading the register again, unless the register was written
in between: by another program (SQLite's ``data_version``) or by the session itself (the connection's
``total_changes``: the Demo seeds a new register); it is then read again, after the register watch took
note of it, as when nothing was listed first.

Each read runs on a worker thread while the GUI thread only keeps the window painted: not while
the GUI thread paints rows. Work of Python's on another thread then makes each of the paint's Python
calls (a ``data()`` per cell) wait for the interpreter's lock, up to its switch interval each time:
measured, reading the rest of the list while the first rows were painted, or the first rows while
the window was, made both later.

The register's integrity check (``PRAGMA quick_check``, a walk of the whole file: some 100 ms at
100,000 payments) is not on the way to the first rows: the register is opened with ``check_later``,
its first rows are read and painted, then the check runs beside the reading of the rest (on a
connection and a thread of its own: SQLite lets go of Python's lock while it walks the file). Until it
passed nothing can be written to the register (``Database.write`` refuses) and no session exists, so
nothing can be sent; a register found damaged lists nothing more, its rows leave the window, and the
session's own open says it is damaged, as it always did. A register handed over unchecked is checked
by the session before its desk opens (``sessions``).

Nothing is listed first for a Team profile (its rows are the server's), for a register that does not
exist yet, or when the register cannot be opened here (locked, damaged, too new, another program's
file): the session's own open then says what is wrong, as it always did.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from epay_desktop.domain.listed import ListedPayments
    from epay_desktop.services import Profile
    from epay_desktop.store import Database, Register, Store
    from epay_desktop.ui.window.main_window import MainWindow

log = logging.getLogger(__name__)

# A first screenful of rows, painted before the whole list is read (a 4K screen shows some 70).
FIRST_ROWS = 200
# Listing first gives up at once on a register another program holds: the session's own open waits
# for it the usual time and tells the person.
QUICK_BUSY_TIMEOUT_MS = 50
# How long the start waits for the table to paint the rows it was given (it goes on after that).
PAINT_LIMIT_MS = 2000


@dataclass
class EarlyList:
    """A profile's register, open, and its rows as read before the session opened."""

    profile_name: str
    path: Path
    db: Database
    register: Register
    payments: ListedPayments  # column by column (``domain.listed``)
    marks: tuple[int, int]  # the register's ``write_marks`` just before the rows were read
    msn: str
    complete: bool = True  # every row of the register is in ``payments`` (not only the first ones)
    _store: Store | None = None

    @property
    def store(self) -> Store:
        """The register's whole store, for the session that takes it over: its journal and audit log
        are loaded here, after the first rows (they are not needed to list them)."""
        if self._store is None:
            from epay_desktop.store.register_file import Store

            self._store = Store.over(self.db, self.register)
        return self._store

    def close(self) -> None:
        self.db.close()


def read_register(profile: Profile, *, first: int | None = None) -> EarlyList | None:
    """Open ``profile``'s register and read its list, or only its ``first`` newest rows (blocking:
    run it on a worker thread; ``read_rest`` reads the others); None when nothing can be listed first
    (see the module docstring)."""
    from epay_desktop.services import register_path
    from epay_desktop.store.db import BUSY_TIMEOUT_MS, Database, RegisterError
    from epay_desktop.store.register import Register

    if profile.is_team:
        return None
    path = register_path(profile)
    if not path.exists():
        return None
    try:
        db = Database(path, busy_timeout_ms=QUICK_BUSY_TIMEOUT_MS, check_later=True)
    except RegisterError as error:
        log.info("not listing %s first: %s", profile.name, error)
        return None
    try:
        db.set_busy_timeout(BUSY_TIMEOUT_MS)
        register = Register(db)
        marks = register.write_marks()
        msn = profile.merchant_serial_number
        payments = register.listed(msn, first=first)
    except RegisterError as error:
        log.info("not listing %s first: %s", profile.name, error)
        db.close()
        return None
    return EarlyList(profile.name, path, db, register, payments, marks, msn, complete=first is None)


def read_rest(early: EarlyList) -> ListedPayments | None:
    """Every row of ``early``'s register (blocking), after its first ones; None when it cannot be read
    now (the session's load reads it)."""
    from epay_desktop.store import RegisterError

    try:
        listed = early.register.listed(early.msn)
        listed.kinds()  # worked out here, not on the GUI thread
        return listed
    except RegisterError as error:
        log.info("not listing %s first: %s", early.profile_name, error)
        return None


def check_and_read_rest(early: EarlyList) -> ListedPayments | None:
    """The register's integrity check (``Database.check_integrity``) and, at the same time, every row
    after the first ones (``read_rest``; none when ``early`` has them all). Raises ``RegisterError``
    when the check fails (the rows read are then dropped); None when the rest cannot be read now."""
    # A plain thread: ``concurrent.futures`` costs some 4 ms to import, on the way to the first rows.
    failed: list[BaseException] = []

    def check() -> None:
        try:
            early.db.check_integrity()
        except BaseException as error:  # raised below, on the caller's thread
            failed.append(error)

    checking = threading.Thread(target=check, name="register-check", daemon=True)
    checking.start()
    try:
        rest = early.payments if early.complete else read_rest(early)
    finally:
        checking.join()
    if failed:
        raise failed[0]
    return rest


def list_first(
    window: MainWindow,
    profile: Profile,
    *,
    first_rows: int = FIRST_ROWS,
    first_painted: Callable[[int], None] | None = None,
    reached: Callable[[str], None] | None = None,
) -> EarlyList | None:
    """Read ``profile``'s register while the window stays painted: its ``first_rows`` newest rows are
    shown and painted at once (``first_painted`` is told how many), then every row. None when nothing
    was listed (then the session's load fills the list). ``reached`` is told each step on the way to
    the first rows as it is done (benchmarks/startup.py times them): ``"read"`` (the first rows read
    from the register, and the Qt enums built meanwhile), then ``"table"`` (shown in the table and laid
    out, not painted yet)."""
    from epay_desktop.ui.first_paint import (
        build_qt_enums,
        collection_held,
        held_until_settled,
        while_painting,
    )

    early: EarlyList | None = None
    try:
        # No collection on the way to the first rows (it would find only what lives on): the young
        # objects made meanwhile are collected once they are painted.
        with collection_held():
            # The enums the table needs are built while the worker opens the register and reads.
            early = while_painting(lambda: read_register(profile, first=first_rows), meanwhile=build_qt_enums)
            if early is None:
                return None
            if reached is not None:
                reached("read")
            payments = early.payments
            view = window.register_view
            # Painted once it is laid out: else its column widths' repaint paints it all again at once.
            held_until_settled(view, lambda: window.show_list(payments))
            if reached is not None:
                reached("table")
            table = view.table
            if table is not None and early.payments:
                _paint_first_rows(window)
            if first_painted is not None:
                first_painted(len(early.payments))
        # Fewer rows than asked for: these are all of them.
        early.complete = len(early.payments) < first_rows
        listed = early
        # Imported by the worker's read by now (not before it: that would hold up its start).
        from epay_desktop.store import RegisterError

        try:
            rest = while_painting(lambda: check_and_read_rest(listed))
        except RegisterError as error:
            log.warning("the register of %s failed its check after its first rows: %s", profile.name, error)
            window.drop_list()
            early.close()
            return None
        if rest is None:
            early.close()
            return None
        if rest is not early.payments:
            window.show_list(rest)
            early.payments, early.complete = rest, True
            if table is not None:
                _paint_rows(window)
    except Exception:  # never in the way of the start: the session's own open reads the register
        log.exception("listing %s first failed", profile.name)
        if early is not None:
            early.close()
        return None
    return early


def _paint_first_rows(window: MainWindow) -> None:
    """``_paint_rows`` for the first rows: their cells are painted straight onto the table, not into
    kept pixels (``PaintedCells.paint_directly``), which the rest of the list, inserted next, would
    drop before any was copied; kept again from the next paint on."""
    painted = window.register_view.painted
    if painted is not None:
        painted.paint_directly(True)
    try:
        _paint_rows(window)
    finally:
        if painted is not None:
            painted.paint_directly(False)


def _paint_rows(window: MainWindow) -> bool:
    """Repaint the table's rows and spin Qt's event loop until they are painted; True when they were.
    Told by the model when a paint asks it for a cell (the table's viewport is not asked for: its first
    look-up from Python builds PySide's wrappers of every kind of widget, some 20 ms)."""
    from epay_desktop.ui.first_paint import wait_for

    table = window.register_view.table
    model = window.model

    def arm(done: Callable[[], None]) -> None:
        model.when_painted(done)
        if table is not None:
            table.update(table.model().index(0, 0))  # at least the top row's first cell, at once

    painted = wait_for(arm, limit_ms=PAINT_LIMIT_MS)
    if not painted:
        log.warning("the payments table did not paint its rows within %d ms", PAINT_LIMIT_MS)
    return painted


def still_current(early: EarlyList, store: Any) -> bool:
    """``early`` has every row, and nothing was written to the register since it was read (blocking).
    Rows read around stale packed rows (``Register.packed_rows_current``) are not: the desk's load
    reads the register again, checked by then, and so makes those rows again."""
    if not getattr(store.register, "packed_rows_current", True):
        return False
    return early.complete and bool(store.register.write_marks() == early.marks)


__all__ = [
    "FIRST_ROWS",
    "EarlyList",
    "check_and_read_rest",
    "list_first",
    "read_register",
    "read_rest",
    "still_current",
]
