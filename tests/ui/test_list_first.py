"""The list first (``app.listing``): the register's rows are read from its file and painted before the
session opens; the session takes over that open register and those rows, unless another program wrote
to the register in between; a register that cannot be opened lists nothing first and the session's
own open says why (a real register file, a Custom profile served by uvicorn, an in-memory keyring)."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import shiboken6
from PySide6.QtCore import QEvent, QObject

from epay_desktop.app import open_profile
from epay_desktop.app.listing import check_and_read_rest, list_first, read_register
from epay_desktop.domain import Aggregate, Currency, Money, Payment, State
from epay_desktop.sandbox import SandboxConfig
from epay_desktop.services import (
    Profile,
    ProfileKind,
    ProfileSecrets,
    ProfileStore,
    SecretStore,
    register_path,
)
from epay_desktop.store import NewEntry, Operation, RegisterDamagedError, RegisterError, Store
from epay_desktop.ui.first_paint import wait_for
from epay_desktop.ui.table.cells import PaymentRoles
from epay_desktop.ui.table.model import PaymentsModel
from epay_desktop.ui.window.main_window import MainWindow
from tests.support.registers import damage_a_page_the_list_never_reads
from tests.support.sandbox_server import running_sandbox
from tests.ui.dialogs.helpers import MemoryKeyring

MSN = "223344"
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@pytest.fixture
def served() -> Iterator[str]:
    with running_sandbox(SandboxConfig(data="empty", rate_limits=False)) as url:
        yield url


@pytest.fixture
def profile(app_home: Path, served: str) -> Profile:
    shop = Profile("Shop listed first", ProfileKind.CUSTOM, MSN, "demo-client", served)
    ProfileStore().save(shop)
    return shop


@pytest.fixture
def secrets(profile: Profile) -> SecretStore:
    store = SecretStore(backend=MemoryKeyring())
    store.set(profile, ProfileSecrets("demo-secret", "demo-subscription-key"))
    return store


def dkk(value: int) -> Money:
    return Money(value, Currency.DKK)


def payment(reference: str, *, captured: int = 0) -> Payment:
    return Payment(
        reference, dkk(5_000), State.AUTHORIZED, Aggregate(dkk(5_000), dkk(captured), dkk(0), dkk(0)), "psp"
    )


def fill(path: Path, count: int) -> list[str]:
    references = [f"listed-{i:04d}" for i in range(count)]
    with Store(path) as store:
        store.register.add(
            MSN, [NewEntry(r, f"Order {r}", T0 + timedelta(minutes=i)) for i, r in enumerate(references)]
        )
        for reference in references:
            store.register.save_snapshot(MSN, payment(reference), [], fetched_at=T0)
    return references


def test_the_rows_are_painted_before_the_session_and_the_session_keeps_them(
    qapp: Any, qtbot: Any, ui_loop: asyncio.AbstractEventLoop, profile: Profile, secrets: SecretStore
) -> None:
    references = fill(register_path(profile), 30)
    window = _shown_window(qtbot)
    early = list_first(window, profile)
    assert early is not None
    # Listed and shown, newest first, before any desk exists: rows can be looked at, nothing done.
    assert not window.bound
    assert window.register_view.currentWidget() is window.register_view.table
    assert window.model.references() == sorted(references, reverse=True)
    window.select_reference(references[3])
    assert window.selected_reference() == references[3]
    assert not window.action("cancel-payment").isEnabled()

    async def main() -> None:
        session = await open_profile(profile, secrets, early=early)
        try:
            assert session.desk.store is early.store  # the register is opened once
            window.bind(session.desk)
            await window.load(refresh=False)
            # The desk's load published the very rows listed first (not read again).
            assert window.model.shows(early.payments), "the rows listed first were replaced"
            assert [window.model.tracked(t.reference) for t in early.payments] == list(early.payments)
            assert window.selected_reference() == references[3]  # the person's choice stands
            assert window.action("cancel-payment").isEnabled()
        finally:
            await window.shutdown()
            await session.aclose()

    ui_loop.run_until_complete(main())
    assert early.store.db._conn is None  # closed with the session


def test_a_first_screenful_is_painted_before_the_rest_is_read(
    qapp: Any, qtbot: Any, ui_loop: asyncio.AbstractEventLoop, profile: Profile, secrets: SecretStore
) -> None:
    references = fill(register_path(profile), 30)
    newest_first = sorted(references, reverse=True)
    window = _shown_window(qtbot)
    seen: list[tuple[int, list[str]]] = []
    early = list_first(
        window, profile, first_rows=10, first_painted=lambda n: seen.append((n, window.model.references()))
    )
    assert early is not None
    assert seen == [(10, newest_first[:10])]  # the newest ten, painted before the others were read
    assert window.model.references() == newest_first  # then all, the others after them, in order
    assert [t.reference for t in early.payments] == newest_first

    async def main() -> None:
        session = await open_profile(profile, secrets, early=early)
        try:
            window.bind(session.desk)
            await window.load(refresh=False)
            assert window.model.rowCount() == 30
            assert window.model.shows(early.payments)
        finally:
            await window.shutdown()
            await session.aclose()

    ui_loop.run_until_complete(main())


def test_a_register_written_by_another_program_after_listing_is_read_again(
    qapp: Any, qtbot: Any, ui_loop: asyncio.AbstractEventLoop, profile: Profile, secrets: SecretStore
) -> None:
    path = register_path(profile)
    references = fill(path, 5)
    window = _shown_window(qtbot)
    early = list_first(window, profile)
    assert early is not None
    # epay-webhooks (another program) saves a capture before the session opens.
    with Store(path) as other:
        other.register.save_snapshot(
            MSN, payment(references[0], captured=5_000), [], fetched_at=datetime.now(UTC)
        )

    async def main() -> None:
        session = await open_profile(profile, secrets, early=early)
        try:
            window.bind(session.desk)
            await window.load(refresh=False)
            listed = next(t for t in early.payments if t.reference == references[0])
            shown = window.model.tracked(references[0])
            assert shown is not listed
            assert shown is not None
            assert shown.payment is not None
            assert shown.payment.aggregate.captured == dkk(5_000)
        finally:
            await window.shutdown()
            await session.aclose()

    ui_loop.run_until_complete(main())


def test_rows_listed_around_stale_packed_rows_are_read_again_and_the_packed_rows_made_again(
    qapp: Any, qtbot: Any, ui_loop: asyncio.AbstractEventLoop, profile: Profile, secrets: SecretStore
) -> None:
    from epay_desktop.store import list_cache

    path = register_path(profile)
    references = fill(path, 5)
    with sqlite3.connect(path, isolation_level=None) as other:
        other.execute("DROP TRIGGER list_rows_update")  # as a tool might: the packed rows are stale
    other.close()
    window = _shown_window(qtbot)
    early = list_first(window, profile)
    assert early is not None
    assert sorted(early.payments.references) == sorted(references)  # read from payments, unchecked
    assert not early.store.register.packed_rows_current

    async def main() -> None:
        session = await open_profile(profile, secrets, early=early)
        try:
            window.bind(session.desk)
            await window.load(refresh=False)
            assert sorted(window.model.references()) == sorted(references)
            assert session.desk.store.db.read("test", list_cache.is_current)  # the load made them again
        finally:
            await window.shutdown()
            await session.aclose()

    ui_loop.run_until_complete(main())


def test_a_register_the_session_itself_writes_before_its_load_is_read_again(
    qapp: Any, qtbot: Any, ui_loop: asyncio.AbstractEventLoop, profile: Profile, secrets: SecretStore
) -> None:
    fill(register_path(profile), 2)
    window = _shown_window(qtbot)
    early = list_first(window, profile)
    assert early is not None
    # Through the very connection the session takes over (as the Demo seeds a new register).
    early.store.register.add(MSN, [NewEntry("added-by-the-session")])

    async def main() -> None:
        session = await open_profile(profile, secrets, early=early)
        try:
            window.bind(session.desk)
            await window.load(refresh=False)
            assert window.model.tracked("added-by-the-session") is not None
            assert window.model.rowCount() == 3
        finally:
            await window.shutdown()
            await session.aclose()

    ui_loop.run_until_complete(main())


def test_a_register_another_program_writes_still_lists_but_one_it_must_migrate_does_not(
    profile: Profile,
) -> None:
    path = register_path(profile)
    fill(path, 3)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        # Readers never wait for a writer (WAL): the list is read as it was last committed.
        early = read_register(profile)
        assert early is not None
        assert len(early.payments) == 3
        early.close()
        # A register of an older schema must be migrated (written) first: listing gives up at once
        # instead of waiting; the session's own open waits the usual time and says it is busy.
        holder.execute("PRAGMA user_version = 4")
        holder.execute("COMMIT")
        holder.execute("BEGIN EXCLUSIVE")
        assert read_register(profile) is None
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_a_damaged_register_lists_nothing_first(profile: Profile) -> None:
    path = register_path(profile)
    fill(path, 3)
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    path.write_bytes(b"this is not a register" * 100)
    assert read_register(profile) is None
    assert path.read_bytes().startswith(b"this is not a register")  # left as it was


def test_nothing_is_listed_first_for_a_new_register_or_a_team_profile(app_home: Path, served: str) -> None:
    new = Profile("New shop", ProfileKind.CUSTOM, MSN, "demo-client", served)
    ProfileStore().save(new)
    assert read_register(new) is None
    assert not register_path(new).exists() or register_path(new).stat().st_size == 0
    team = Profile("Desk", ProfileKind.TEAM, MSN, base_url=served, agent="kari")
    assert read_register(team) is None


def test_rows_listed_first_survive_a_window_closed_before_its_session(qapp: Any, profile: Profile) -> None:
    fill(register_path(profile), 2)
    window = MainWindow(show_error_dialogs=False)
    window.show()
    early = list_first(window, profile)
    assert early is not None
    window.close()
    early.close()  # what ``cli.main`` does when no session took it over
    early.close()
    shiboken6.delete(window)


def _intents(path: Path) -> list[tuple[str]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT idempotency_key FROM intents").fetchall()
    finally:
        conn.close()


def test_the_first_rows_are_read_before_the_register_is_checked_and_nothing_is_written_before(
    profile: Profile,
) -> None:
    fill(register_path(profile), 30)
    early = read_register(profile, first=10)
    assert early is not None
    try:
        assert len(early.payments) == 10
        assert not early.store.db.checked  # the walk of the file is not on the way to the first rows
        with pytest.raises(RegisterError, match="not been checked"):
            early.store.journal.begin(
                operation=Operation.CANCEL,
                profile=profile.name,
                msn=MSN,
                reference="listed-0001",
                amount=dkk(5_000),
                idempotency_key="key-before-the-check",
                os_user="tester",
            )
        rest = check_and_read_rest(early)
        assert early.store.db.checked
        assert rest is not None
        assert len(rest) == 30
    finally:
        early.close()
    assert _intents(register_path(profile)) == []


def test_a_register_damaged_where_the_list_does_not_look_is_dropped_after_its_first_rows(
    qapp: Any, qtbot: Any, ui_loop: asyncio.AbstractEventLoop, profile: Profile, secrets: SecretStore
) -> None:
    path = register_path(profile)
    fill(path, 30)
    damage_a_page_the_list_never_reads(path)
    before = path.read_bytes()
    window = _shown_window(qtbot)
    painted: list[int] = []
    early = list_first(window, profile, first_rows=10, first_painted=painted.append)
    # Its first rows were read and painted (the damage is elsewhere), then the check found the damage:
    # nothing is handed to the session, and the rows are out of sight.
    assert painted == [10]
    assert early is None
    assert window.register_view.currentWidget() is window.register_view.placeholder
    assert window.model.rowCount() == 0  # nor counted in the status bar
    assert not window.bound
    assert not window.action("cancel-payment").isEnabled()

    async def main() -> None:
        # The session's own open says it is damaged, as it always did: no desk, so nothing can be sent.
        with pytest.raises(RegisterDamagedError, match="damaged"):
            await open_profile(profile, secrets)

    ui_loop.run_until_complete(main())
    assert path.read_bytes() == before  # nothing written


def test_a_session_handed_an_unchecked_damaged_register_does_not_open(
    ui_loop: asyncio.AbstractEventLoop, profile: Profile, secrets: SecretStore
) -> None:
    path = register_path(profile)
    fill(path, 30)
    damage_a_page_the_list_never_reads(path)
    before = path.read_bytes()
    early = read_register(profile)
    assert early is not None
    assert not early.store.db.checked

    async def main() -> None:
        with pytest.raises(RegisterDamagedError, match="damaged"):
            await open_profile(profile, secrets, early=early)

    ui_loop.run_until_complete(main())
    assert early.store.db._conn is None  # closed by the session that did not open
    assert path.read_bytes() == before


def _shown_window(qtbot: Any) -> MainWindow:
    """A main window, shown, with no refresh of its own during the test."""
    window = MainWindow(show_error_dialogs=False, auto_refresh_ms=3_600_000)
    qtbot.addWidget(window)
    window.show()
    return window


class _ViewportPaints(QObject):
    """Counts the paints of the payments table's viewport (found by its object names)."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            event.type() == QEvent.Type.Paint
            and watched.objectName() == "qt_scrollarea_viewport"
            and watched.parent() is not None
            and watched.parent().objectName() == "PaymentsTable"
        ):
            self.count += 1
        return False


def test_the_rows_are_said_painted_only_after_the_table_painted_them(
    qapp: Any, qtbot: Any, profile: Profile
) -> None:
    fill(register_path(profile), 30)
    window = _shown_window(qtbot)
    paints = _ViewportPaints()
    qapp.installEventFilter(paints)
    told: list[tuple[int, int]] = []
    try:
        early = list_first(
            window, profile, first_rows=10, first_painted=lambda n: told.append((n, paints.count))
        )
    finally:
        qapp.removeEventFilter(paints)
    assert early is not None
    assert told
    assert told[0][0] == 10
    assert told[0][1] >= 1, "said painted before the table's rows were painted"
    early.close()


def test_waiting_for_a_paint_gives_up_after_its_limit(qapp: Any) -> None:
    assert wait_for(lambda done: None, limit_ms=30) is False
    assert wait_for(lambda done: done(), limit_ms=30) is True


def test_the_whole_list_is_said_painted_when_it_adds_no_row(
    qapp: Any, qtbot: Any, profile: Profile, caplog: pytest.LogCaptureFixture
) -> None:
    # Exactly a first screenful: the rest read is the same rows, so nothing new is painted.
    fill(register_path(profile), 10)
    window = _shown_window(qtbot)
    with caplog.at_level(logging.WARNING, logger="epay_desktop.app.listing"):
        early = list_first(window, profile, first_rows=10)
    assert early is not None
    assert len(early.payments) == 10
    assert "did not paint" not in caplog.text
    early.close()


def test_a_delegate_reading_only_the_looks_tells_its_paint(qapp: Any, qtbot: Any, profile: Profile) -> None:
    # A delegate that copies pixels it kept reads the row's looks and nothing else (no multiData).
    fill(register_path(profile), 3)
    early = read_register(profile)
    assert early is not None
    model = PaymentsModel()
    model.set_listed(early.payments)
    told: list[int] = []
    model.when_painted(lambda: told.append(1))
    model.data(model.index(1, 0), PaymentRoles.LOOKS)
    qtbot.waitUntil(lambda: told == [1])
    model.data(model.index(2, 0), PaymentRoles.LOOKS)
    qtbot.wait(20)
    assert told == [1]  # once
    early.close()


def test_the_steps_to_the_first_rows_are_told_as_they_are_done(
    qapp: Any, qtbot: Any, profile: Profile
) -> None:
    fill(register_path(profile), 30)
    window = _shown_window(qtbot)
    paints = _ViewportPaints()
    qapp.installEventFilter(paints)
    steps: list[tuple[str, bool, int]] = []

    def told(step: str) -> None:
        table = window.register_view.table
        steps.append((step, table is not None and table.model().rowCount() == 10, paints.count))

    try:
        early = list_first(
            window,
            profile,
            first_rows=10,
            reached=told,
            first_painted=lambda n: told(f"first {n}"),
        )
    finally:
        qapp.removeEventFilter(paints)
    assert early is not None
    # Read: no table yet. Shown: the ten rows in the table, not painted. Then painted.
    assert steps[:2] == [("read", False, 0), ("table", True, 0)]
    assert steps[2][:2] == ("first 10", True)
    assert steps[2][2] >= 1, "said painted before the table's rows were painted"
    assert len(steps) == 3  # the rest of the list is not a step on the way to the first rows
    early.close()


def test_nothing_is_told_when_nothing_is_listed_first(qapp: Any, qtbot: Any, profile: Profile) -> None:
    window = MainWindow(show_error_dialogs=False, auto_refresh_ms=3_600_000)
    qtbot.addWidget(window)
    steps: list[str] = []
    assert list_first(window, profile, reached=steps.append) is None  # no register yet
    assert steps == []
