"""Stores for the contract suite: each test runs once on a SQLite file and once on PostgreSQL (a schema of
its own in the session's throwaway cluster), through the one interface both implement."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from epay_desktop.store import PaymentStore, PgStore, Store

OpenStore = Callable[[], PaymentStore]


@pytest.fixture(params=["sqlite", "postgres"])
def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OpenStore]:
    """Opens another store on the same data each time it is called (another connection, as another
    process or another instance of the team service would); all are closed after the test."""
    opened: list[PaymentStore] = []
    if request.param == "sqlite":
        path = tmp_path / "register.sqlite3"

        def open_one() -> PaymentStore:
            store = Store(path)
            opened.append(store)
            return store

    else:
        conninfo = request.getfixturevalue("postgres_cluster").new_schema()

        def open_one() -> PaymentStore:
            store = PgStore(conninfo)
            opened.append(store)
            return store

    try:
        yield open_one
    finally:
        for store in opened:
            store.close()


@pytest.fixture
def store(open_store: OpenStore) -> PaymentStore:
    return open_store()
