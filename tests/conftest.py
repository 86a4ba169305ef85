"""Shared fixtures. Qt runs offscreen unless the caller chose a platform; every test gets a private
app home so nothing touches the real user's files."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# No real keyring on a headless box; tests that need one install their own in-memory backend.
os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")

if TYPE_CHECKING:
    from tests.services.keyrings import MemoryKeyring
    from tests.support.postgres import Cluster

REFERENCE_DIR = Path(__file__).parent / "reference"


@pytest.fixture(autouse=True)
def app_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "epay-home"
    monkeypatch.setenv("EPAY_DESKTOP_HOME", str(home))
    return home


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def qt_loop(qapp: Any) -> Iterator[asyncio.AbstractEventLoop]:
    """A qasync event loop on the GUI thread that fails the test on any unhandled error in the loop
    (an exception in a callback, a task whose exception nobody retrieved)."""
    from epay_desktop.ui.aio import new_event_loop

    loop = new_event_loop(qapp)
    errors: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _loop, context: errors.append(context))
    asyncio.set_event_loop(loop)
    try:
        yield loop
        # Let pending callbacks run so late errors surface inside this test.
        loop.run_until_complete(asyncio.sleep(0))
    finally:
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
        asyncio.set_event_loop(None)
        loop.close()
    if errors:
        messages = "; ".join(str(c.get("exception") or c.get("message")) for c in errors)
        pytest.fail(f"unhandled error(s) in the event loop: {messages}")


@pytest.fixture(autouse=True)
def english_by_default() -> Iterator[None]:
    """Every test starts and ends in English (the source language): a test that switches language
    cannot change the words another test reads."""
    from epay_desktop import i18n

    i18n.set_language("en", None)
    yield
    i18n.set_language("en", None)


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[Cluster]:
    """A throwaway PostgreSQL cluster on 127.0.0.1 for the whole run (``tests/support/postgres.py``).
    Where it cannot start, tests that need it fail in CI and are skipped elsewhere, with the reason."""
    from tests.support.postgres import ClusterUnavailableError, postgres_required, start_cluster

    try:
        cluster = start_cluster()
    except ClusterUnavailableError as error:
        if postgres_required():
            pytest.fail(f"PostgreSQL is required here but could not start: {error}", pytrace=False)
        pytest.skip(
            f"PostgreSQL could not start here ({error}); set EPAY_TEST_POSTGRES=required to fail instead"
        )
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    """The OS keyring replaced by one in memory for the test (a headless box has none)."""
    import keyring

    from tests.services.keyrings import MemoryKeyring

    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)
