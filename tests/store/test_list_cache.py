"""The list's packed rows (``store.list_cache``): whatever is written to the register, and however, the
list read from them is the list read from ``payments`` itself; one that is missing, of another
version or damaged is read around and made again; a register of schema 6 gets them."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from epay_desktop.domain import Aggregate, Currency, Money, Payment, State
from epay_desktop.domain.listed import ListedPayments
from epay_desktop.store import SCHEMA_VERSION, NewEntry, Store, list_cache
from epay_desktop.store.listing import read_listed
from tests.support.registers import MSN, T0, varied

DATA = Path(__file__).parent / "data"


def _both(store: Store, msn: str = MSN, first: int | None = None) -> tuple[ListedPayments, ListedPayments]:
    """The list read from the packed rows, and from ``payments``."""
    return store.db.read(
        "test",
        lambda c: (list_cache.read_packed(c, msn, first=first), read_listed(c, msn, first=first)),
    )


def _same(packed: ListedPayments, whole: ListedPayments) -> None:
    assert packed.references == whole.references
    assert len(packed) == len(whole)
    assert packed.same_rows(whole, len(whole))
    assert list(packed) == list(whole)
    assert packed.kinds() == whole.kinds()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "register.sqlite3") as s:
        yield s


def test_a_new_register_keeps_packed_rows_equal_to_the_full_read(store: Store) -> None:
    varied(store)
    assert store.db.read("test", list_cache.is_current)
    packed, whole = _both(store)
    _same(packed, whole)
    assert store.register.listed(MSN) == whole
    packed, whole = _both(store, first=3)
    _same(packed, whole)
    # Only the rows that need a look of their own are read from ``payments``: here the one with
    # metadata, and the one whose aggregate the columns cannot hold.
    marked = store.db.read(
        "test",
        lambda c: [
            r[0]
            for r in c.execute(
                f"SELECT reference FROM {list_cache.TABLE} WHERE substr(packed, 1, 1) != char(31)"
            )
        ],
    )
    assert sorted(marked) == ["p-mixed", "p-reserved"]


_REFERENCES = st.sampled_from([f"ref-{i:02d}" for i in range(8)])
_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
_TIMES = st.one_of(
    st.none(),
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)),
)
_ODD_CELLS = st.sampled_from(
    [
        "created_at = '2025-05-06 05:08:09'",
        "created_at = 'yesterday'",
        "fetched_at = '2025-05-06T05:08:09.999999+00:00'",
        "fetched_at = 17",
        "last_event_at = '2025-05-06T07:08:09+02:00'",
        "amount = 'lots'",
        "currency = 'SEK'",
        "state = 'PAUSED'",
        'metadata_json = \'{"a": "b"}\'',
        "metadata_json = 'not json'",
        "payment_json = '{broken'",
        "description = 'a' || char(31) || 'b'",
        "payment_redirect_url = ''",
        "msn = '999999'",
    ]
)


@st.composite
def _payments(draw: st.DrawFn, reference: str) -> Payment:
    currency = draw(st.sampled_from(list(Currency)))
    amounts = [draw(st.integers(0, 10**9)) for _ in range(5)]
    other = draw(st.sampled_from(list(Currency))) if draw(st.booleans()) else currency
    return Payment(
        reference,
        Money(amounts[0], currency),
        draw(st.sampled_from(list(State))),
        Aggregate(
            Money(amounts[1], other),
            Money(amounts[2], currency),
            Money(amounts[3], currency),
            Money(amounts[4], currency),
        ),
        draw(_TEXT),
        draw(_TEXT),
        draw(st.sampled_from(["WALLET", "CARD", ""])),
        draw(st.one_of(st.none(), st.just("https://shop.example/back"), st.just(""))),
        draw(st.sampled_from(["", "AUTHORIZED", "ON_HOLD"])),
        draw(st.one_of(st.just({}), st.dictionaries(_TEXT, _TEXT, max_size=2))),
        draw(_TIMES),
    )


@st.composite
def _steps(draw: st.DrawFn) -> list[tuple[str, object]]:
    steps: list[tuple[str, object]] = []
    for _ in range(draw(st.integers(1, 14))):
        kind = draw(st.sampled_from(["add", "snapshot", "error", "remove", "odd", "link"]))
        reference = draw(_REFERENCES)
        if kind == "add":
            steps.append((kind, NewEntry(reference, draw(_TEXT), draw(_TIMES))))
        elif kind == "snapshot":
            steps.append((kind, (draw(_payments(reference)), draw(_TIMES))))
        elif kind == "error":
            steps.append((kind, (reference, draw(_TEXT))))
        elif kind == "odd":
            steps.append((kind, (reference, draw(_ODD_CELLS))))
        else:
            steps.append((kind, reference))
    return steps


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=_steps())
def test_whatever_is_written_the_packed_rows_list_what_the_full_read_lists(
    tmp_path_factory: pytest.TempPathFactory, steps: list[tuple[str, object]]
) -> None:
    path = tmp_path_factory.mktemp("cache") / "register.sqlite3"
    with Store(path) as store:
        register = store.register
        for kind, what in steps:
            if kind == "add":
                assert isinstance(what, NewEntry)
                register.add(MSN, [what], now=T0)
            elif kind == "snapshot":
                payment, fetched = what  # type: ignore[misc]
                register.save_snapshot(MSN, payment, [], fetched_at=fetched or T0)
            elif kind == "error":
                reference, text = what  # type: ignore[misc]
                register.save_fetch_error(MSN, reference, text)
            elif kind == "remove":
                register.remove(MSN, str(what))
            elif kind == "link":
                register.set_redirect_url(MSN, str(what), "https://pay.example/x")
            else:
                reference, cell = what  # type: ignore[misc]
                store.db.write(
                    "test",
                    lambda c, cell=cell, reference=reference: c.execute(
                        f"UPDATE payments SET {cell} WHERE reference = ?", (reference,)
                    ),
                )
        for msn in (MSN, "999999"):
            _same(*_both(store, msn))
            _same(*_both(store, msn, first=2))
        assert store.db.read("test", list_cache.is_current)


def test_a_register_of_schema_6_gets_the_packed_rows_and_lists_as_before(tmp_path: Path) -> None:
    """``data/register-schema-6.sqlite3`` was written by the previous version (see data/README.md)."""
    path = tmp_path / "old.sqlite3"
    shutil.copyfile(DATA / "register-schema-6.sqlite3", path)
    with sqlite3.connect(path) as old:
        assert old.execute("PRAGMA user_version").fetchone()[0] == 6
        before = read_listed(old, MSN)
    old.close()
    assert len(before) == 47
    with Store(path) as store:
        assert store.db.schema_version() == SCHEMA_VERSION == 8
        assert store.db.read("test", list_cache.is_current)
        packed, whole = _both(store)
        _same(packed, whole)
        _same(packed, before)
        assert [t.reference for t in store.register.all("999999")] == ["other-msn-1"]
        # Written to after the migration, the triggers keep them.
        store.register.add(MSN, [NewEntry("after-1", "new", T0 + timedelta(days=4000))])
        packed, whole = _both(store)
        _same(packed, whole)
        assert packed.references[0] == "after-1"


@pytest.mark.parametrize(
    "spoil",
    [
        "DROP TRIGGER list_rows_update",
        "DROP TRIGGER list_rows_insert; DROP TRIGGER list_rows_update; DROP TRIGGER list_rows_delete; "
        "DROP TABLE list_rows",
        # Another version's packing (or a tool's copy of it): the stored statement differs.
        "DROP TRIGGER list_rows_delete; CREATE TRIGGER list_rows_delete AFTER DELETE ON payments BEGIN "
        "SELECT 1; END",
    ],
    ids=["a trigger missing", "all missing", "another trigger"],
)
def test_stale_packed_rows_are_read_around_and_made_again(tmp_path: Path, spoil: str) -> None:
    path = tmp_path / "register.sqlite3"
    with Store(path) as store:
        varied(store)
        expected = list(store.register.listed(MSN))
    with sqlite3.connect(path, isolation_level=None) as other:
        other.executescript(spoil)
        # Written while stale: a row the packed rows (if any) do not know of, and one removed.
        other.execute(
            "INSERT INTO payments (msn, reference, added_at) "
            "VALUES (?, 'stale-1', '2030-01-01T00:00:00+00:00')",
            (MSN,),
        )
        other.execute("DELETE FROM payments WHERE reference = 'p-created'")
    other.close()
    expected = [t for t in expected if t.reference != "p-created"]
    with Store(path, read_only=True) as store:
        assert not store.db.read("test", list_cache.is_current)
        listed = store.register.listed(MSN)  # read from payments; nothing written
        assert listed.references[0] == "stale-1"
        assert list(listed)[1:] == expected
        assert not store.db.read("test", list_cache.is_current)
    with Store(path) as store:
        assert list(store.register.listed(MSN)) == list(listed)
        assert store.db.read("test", list_cache.is_current)  # made again by that read
        _same(*_both(store))


def test_packed_rows_spoiled_in_place_are_read_around_and_made_again(store: Store) -> None:
    varied(store)
    expected = list(store.register.listed(MSN))
    for garbage in ("x", "zz" + "\x1f" * 10 + "not hex", "\x1f" * 10 + "ab"):
        store.db.write(
            "test",
            lambda c, g=garbage: c.execute(
                f"UPDATE {list_cache.TABLE} SET packed = ? WHERE reference = 'p-terminated'", (g,)
            ),
        )
        assert list(store.register.listed(MSN)) == expected
        _same(*_both(store))  # made again


def test_a_packed_row_names_its_payment_by_reference_not_by_rowid(tmp_path: Path) -> None:
    """``VACUUM`` (by any SQLite tool) may renumber the rowids of ``payments`` without firing a trigger:
    a row packed as "read it from ``payments``" must still find its own payment, not another one."""
    path = tmp_path / "register.sqlite3"
    with Store(path) as store:
        varied(store)
        expected = list(store.register.listed(MSN))
    with sqlite3.connect(path, isolation_level=None) as other:
        # What a renumbering does: the two payments packed as marks swap rowids, triggers unfired.
        triggers = [
            sql
            for (name, sql) in other.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
            if name in list_cache.TRIGGERS
        ]
        for name in list_cache.TRIGGERS:
            other.execute(f"DROP TRIGGER {name}")
        (mixed,), (reserved,) = (
            other.execute("SELECT rowid FROM payments WHERE reference = ?", (reference,)).fetchone()
            for reference in ("p-mixed", "p-reserved")
        )
        for reference, rowid in (("p-mixed", -1), ("p-reserved", mixed), ("p-mixed", reserved)):
            other.execute("UPDATE payments SET rowid = ? WHERE reference = ?", (rowid, reference))
        for sql in triggers:
            other.execute(sql)
    other.close()
    with Store(path, read_only=True) as store:
        assert store.db.read("test", list_cache.is_current)
        assert list(store.register.listed(MSN)) == expected
