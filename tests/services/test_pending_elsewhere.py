"""The window's journal and ``epay``'s are separate files, and so are two profiles' registers: an
operation one of them left without an outcome must still stop the other from starting a second one on
the same payment (same merchant, same environment), and a capture or refund one of them confirmed
minutes ago makes the other ask "the same again?" before a second of the same amount, as its own
journal does. Real sandbox under uvicorn, real register files, the real command line."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from epay_desktop.api import Credentials, Environment, EPaymentClient, SandboxControls
from epay_desktop.cli import main
from epay_desktop.domain import Money
from epay_desktop.sandbox import SandboxConfig
from epay_desktop.services import (
    DEMO_PROFILE,
    PaymentDesk,
    PendingElsewhereError,
    Profile,
    ProfileKind,
    ProfileStore,
    RepeatNotConfirmedError,
    register_path,
)
from epay_desktop.services.elsewhere import (
    cli_environment,
    cli_journal_path,
    confirmed_elsewhere,
    pending_elsewhere,
    repeated_elsewhere,
)
from epay_desktop.store import IntentStatus, Operation, Store
from epay_desktop.store.peek import PeekError, confirmed_since, pending_in
from tests.services.conftest import fast_retry, nok
from tests.support.sandbox_server import running_sandbox

pytestmark = pytest.mark.slow

CREDENTIALS = Credentials("demo-client", "demo-secret", "demo-subscription-key", "123456")


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv), stdin=io.StringIO(""))
    out, err = capsys.readouterr()
    return code, out, err


def _left_pending(store_path: Path, profile: str, reference: str, amount: Money | None) -> str:
    """An intent committed and then never finished: what a run killed mid-send leaves behind."""
    key = str(uuid.uuid4())
    with Store(store_path) as store:
        store.journal.begin(
            operation=Operation.CAPTURE,
            profile=profile,
            msn="123456",
            reference=reference,
            amount=amount,
            idempotency_key=key,
            os_user="killed-run",
        )
    return key


async def _authorized_payment(url: str, desk: PaymentDesk) -> str:
    async with SandboxControls(url) as controls:
        tracked = await desk.create_payment(nok(10000), "Two loaves", "4791234567")
        await controls.customer("123456", tracked.reference, "approve")
    await desk.refresh(tracked.reference)
    return tracked.reference


def test_a_capture_epay_left_unknown_stops_the_window_from_capturing_again(
    app_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with running_sandbox(SandboxConfig(data="empty", rate_limits=False)) as url:
        profile = Profile("Shop", ProfileKind.CUSTOM, "123456", "demo-client", url)

        async def window_captures(
            left: str | None, *, again: bool = False
        ) -> tuple[str, BaseException | None]:
            async with EPaymentClient(Environment.sandbox(url), CREDENTIALS, retry=fast_retry()) as client:
                desk = await PaymentDesk.open(profile, client, register_path(profile), operator="tester")
                try:
                    reference = left or await _authorized_payment(url, desk)
                    if left is None:
                        return reference, None
                    try:
                        await desk.capture(reference, nok(4000), again=again)
                    except (PendingElsewhereError, RepeatNotConfirmedError) as error:
                        return reference, error
                    return reference, None
                finally:
                    await desk.aclose()

        reference, _none = asyncio.run(window_captures(None))
        key = _left_pending(cli_journal_path(), f"epay-cli sandbox {url}", reference, nok(4000))

        _ref, refused = asyncio.run(window_captures(reference))
        assert isinstance(refused, PendingElsewhereError)
        assert "the command line (epay)" in str(refused)
        assert "Nothing was sent" in str(refused)
        code, out, _err = _cli(capsys, "--base-url", url, "--json", "events", reference)
        assert code == 0
        assert [e for e in json.loads(out) if e["name"] == "CAPTURED"] == []

        # Finished where it began (the same command resumes it with its key), the window may go on.
        code, _out, err = _cli(capsys, "--base-url", url, "capture", reference, "40.00")
        assert code == 0, err
        # The same amount a minute after epay's: asked first (test_repeat_elsewhere.py), sent once confirmed.
        _ref, refused = asyncio.run(window_captures(reference))
        assert isinstance(refused, RepeatNotConfirmedError)
        _ref, refused = asyncio.run(window_captures(reference, again=True))
        assert refused is None
        code, out, _err = _cli(capsys, "--base-url", url, "--json", "events", reference)
        captured = [e for e in json.loads(out) if e["name"] == "CAPTURED"]
        assert next(e["idempotencyKey"] for e in captured) == key
        assert len(captured) == 2  # epay's, once, with its journaled key, then the window's own


def test_a_capture_the_window_left_unknown_stops_epay(
    app_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with running_sandbox(SandboxConfig(data="empty", rate_limits=False)) as url:
        profile = ProfileStore().save(
            Profile("Bakery till", ProfileKind.CUSTOM, "123456", "demo-client", url)
        )

        async def authorized() -> str:
            async with EPaymentClient(Environment.sandbox(url), CREDENTIALS, retry=fast_retry()) as client:
                desk = await PaymentDesk.open(profile, client, register_path(profile), operator="tester")
                try:
                    return await _authorized_payment(url, desk)
                finally:
                    await desk.aclose()

        reference = asyncio.run(authorized())
        _left_pending(register_path(profile), profile.name, reference, nok(4000))

        code, _out, err = _cli(capsys, "--base-url", url, "capture", reference, "40.00")
        assert code == 1, err
        assert "the profile Bakery till" in err
        assert "Nothing was sent" in err
        code, out, _err = _cli(capsys, "--base-url", url, "--json", "events", reference)
        assert [e for e in json.loads(out) if e["name"] == "CAPTURED"] == []


@pytest.mark.anyio
async def test_only_the_same_merchant_in_the_same_environment_counts(app_home: Path) -> None:
    url = "http://127.0.0.1:8123"
    same = Profile("Shop", ProfileKind.CUSTOM, "123456", "demo-client", url)
    other_merchant = Profile("Other shop", ProfileKind.CUSTOM, "654321", "demo-client", url)
    test_env = Profile("Shop in Test", ProfileKind.TEST, "123456", "demo-client")
    for profile in (same, other_merchant, test_env):
        ProfileStore().save(profile)
        _left_pending(register_path(profile), profile.name, "ref-1", nok(100))
    _left_pending(cli_journal_path(), "epay-cli test", "ref-1", nok(100))

    found = await pending_elsewhere(base_url=url, msn="123456", reference="ref-1", here=None)
    assert [p.where for p in found] == ["the profile Shop"]
    here = await pending_elsewhere(base_url=url, msn="123456", reference="ref-1", here=register_path(same))
    assert here == []  # its own register is the journal's own business
    in_test = await pending_elsewhere(
        base_url=cli_environment("epay-cli test"), msn="123456", reference="ref-1", here=None
    )
    assert sorted(p.where for p in in_test) == ["the command line (epay)", "the profile Shop in Test"]
    # The built-in sandboxes each keep payments of their own: nothing to look into.
    assert cli_environment("epay-cli sandbox") is None
    assert await pending_elsewhere(base_url=None, msn="123456", reference="ref-1", here=None) == []
    assert DEMO_PROFILE.is_demo


@pytest.mark.anyio
async def test_an_unreadable_journal_elsewhere_is_logged_and_passed_over(
    app_home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = "http://127.0.0.1:8123"
    broken = ProfileStore().save(Profile("Broken", ProfileKind.CUSTOM, "123456", "demo-client", url))
    register_path(broken).write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(PeekError):
        pending_in(register_path(broken), msn="123456", reference="ref-1")
    with caplog.at_level(logging.WARNING, logger="epay_desktop.services.elsewhere"):
        assert await pending_elsewhere(base_url=url, msn="123456", reference="ref-1", here=None) == []
    assert "could not look into" in caplog.text
    assert pending_in(app_home / "missing.sqlite3", msn="123456", reference="ref-1") == []


URL = "http://127.0.0.1:8123"


def _captured_events(capsys: pytest.CaptureFixture[str], url: str, reference: str) -> list[dict[str, object]]:
    code, out, _err = _cli(capsys, "--base-url", url, "--json", "events", reference)
    assert code == 0
    return [e for e in json.loads(out) if e["name"] == "CAPTURED"]


def _confirmed(
    store_path: Path, profile: str, reference: str, amount: Money, *, operation: Operation = Operation.CAPTURE
) -> None:
    """A capture (or refund) whose success the API confirmed, as a journal keeps it."""
    with Store(store_path) as store:
        intent = store.journal.begin(
            operation=operation,
            profile=profile,
            msn="123456",
            reference=reference,
            amount=amount,
            idempotency_key=str(uuid.uuid4()),
            os_user="someone-else",
        )
        store.journal.finish(intent.id, IntentStatus.SUCCEEDED, "captured", os_user="someone-else")


def test_a_capture_epay_made_minutes_ago_makes_the_window_ask_before_a_second(
    app_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with running_sandbox(SandboxConfig(data="empty", rate_limits=False)) as url:
        profile = Profile("Shop", ProfileKind.CUSTOM, "123456", "demo-client", url)

        async def window(reference: str | None, amount: Money, *, again: bool = False) -> str | BaseException:
            async with EPaymentClient(Environment.sandbox(url), CREDENTIALS, retry=fast_retry()) as client:
                desk = await PaymentDesk.open(profile, client, register_path(profile), operator="tester")
                try:
                    if reference is None:
                        return await _authorized_payment(url, desk)
                    try:
                        await desk.capture(reference, amount, again=again)
                    except RepeatNotConfirmedError as error:
                        return error
                    return reference
                finally:
                    await desk.aclose()

        reference = asyncio.run(window(None, nok(0)))
        assert isinstance(reference, str)
        code, _out, err = _cli(capsys, "--base-url", url, "capture", reference, "40.00")
        assert code == 0, err

        refused = asyncio.run(window(reference, nok(4000)))
        assert isinstance(refused, RepeatNotConfirmedError)
        assert refused.previous.amount == nok(4000)
        assert refused.previous.os_user == "epay-cli"
        assert "Nothing was sent" in str(refused)
        assert len(_captured_events(capsys, url, reference)) == 1

        # Another amount is not a repeat; the same one goes once the person confirms a second.
        assert asyncio.run(window(reference, nok(1500))) == reference
        assert asyncio.run(window(reference, nok(4000), again=True)) == reference
        assert len(_captured_events(capsys, url, reference)) == 3


def test_a_capture_the_window_made_minutes_ago_makes_epay_ask_for_again(
    app_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with running_sandbox(SandboxConfig(data="empty", rate_limits=False)) as url:
        profile = ProfileStore().save(
            Profile("Bakery till", ProfileKind.CUSTOM, "123456", "demo-client", url)
        )

        async def window_captures() -> str:
            async with EPaymentClient(Environment.sandbox(url), CREDENTIALS, retry=fast_retry()) as client:
                desk = await PaymentDesk.open(profile, client, register_path(profile), operator="tester")
                try:
                    reference = await _authorized_payment(url, desk)
                    await desk.capture(reference, nok(4000))
                    return reference
                finally:
                    await desk.aclose()

        reference = asyncio.run(window_captures())
        code, _out, err = _cli(capsys, "--base-url", url, "capture", reference, "40.00")
        assert code == 1, err
        assert "--again" in err
        assert "Nothing was sent" in err
        assert len(_captured_events(capsys, url, reference)) == 1

        code, _out, err = _cli(capsys, "--base-url", url, "capture", reference, "40.00", "--again")
        assert code == 0, err
        assert len(_captured_events(capsys, url, reference)) == 2


@pytest.mark.anyio
async def test_only_recent_same_amount_same_operation_in_the_same_environment_counts(app_home: Path) -> None:
    same = ProfileStore().save(Profile("Shop", ProfileKind.CUSTOM, "123456", "demo-client", URL))
    other_merchant = ProfileStore().save(Profile("Other", ProfileKind.CUSTOM, "654321", "demo-client", URL))
    _confirmed(register_path(same), same.name, "ref-1", nok(100))
    _confirmed(register_path(same), same.name, "ref-2", nok(100), operation=Operation.REFUND)
    _confirmed(register_path(other_merchant), other_merchant.name, "ref-3", nok(100))
    _confirmed(cli_journal_path(), "epay-cli test", "ref-1", nok(100))
    now = datetime.now(UTC)

    async def repeated(reference: str, operation: Operation, amount: Money | None, since: datetime) -> object:
        found = await repeated_elsewhere(
            base_url=URL,
            msn="123456",
            reference=reference,
            operation=operation,
            amount=amount,
            since=since,
            here=None,
        )
        return found and (found.reference, found.operation, found.os_user)

    hour_ago = now - timedelta(hours=1)
    assert await repeated("ref-1", Operation.CAPTURE, nok(100), hour_ago) == (
        "ref-1",
        Operation.CAPTURE,
        "someone-else",
    )
    assert await repeated("ref-1", Operation.CAPTURE, nok(99), hour_ago) is None
    assert await repeated("ref-1", Operation.REFUND, nok(100), hour_ago) is None
    assert await repeated("ref-2", Operation.REFUND, nok(100), hour_ago) is not None
    assert await repeated("ref-1", Operation.CANCEL, None, hour_ago) is None  # nothing to release twice
    assert await repeated("ref-1", Operation.CAPTURE, nok(100), now + timedelta(minutes=1)) is None
    assert await repeated("ref-3", Operation.CAPTURE, nok(100), hour_ago) is None  # another merchant
    # epay's capture was made in Test, not against this sandbox: it does not count here, and does there.
    in_test = await confirmed_elsewhere(
        base_url="https://apitest.vipps.no",
        msn="123456",
        reference="ref-1",
        operation=Operation.CAPTURE,
        since=hour_ago,
        here=None,
    )
    assert [seen.where for seen in in_test] == ["the command line (epay)"]
    mine = await confirmed_elsewhere(
        base_url=URL,
        msn="123456",
        reference="ref-1",
        operation=Operation.CAPTURE,
        since=hour_ago,
        here=register_path(same),
    )
    assert mine == []  # its own register is the journal's own business


@pytest.mark.anyio
async def test_an_unreadable_journal_elsewhere_does_not_stop_a_capture(
    app_home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    broken = ProfileStore().save(Profile("Broken", ProfileKind.CUSTOM, "123456", "demo-client", URL))
    register_path(broken).write_bytes(b"this is not a database at all" * 100)
    since = datetime.now(UTC) - timedelta(hours=1)
    with pytest.raises(PeekError):
        confirmed_since(
            register_path(broken), msn="123456", reference="ref-1", operation=Operation.CAPTURE, since=since
        )
    with caplog.at_level(logging.WARNING, logger="epay_desktop.services.elsewhere"):
        found = await repeated_elsewhere(
            base_url=URL,
            msn="123456",
            reference="ref-1",
            operation=Operation.CAPTURE,
            amount=nok(100),
            since=since,
            here=None,
        )
    assert found is None
    assert "could not look into" in caplog.text
