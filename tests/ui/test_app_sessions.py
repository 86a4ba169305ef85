"""The composition root's sessions: switching profile (to a Custom profile served by uvicorn over real
HTTP, secrets in an in-memory keyring), missing secrets, a Production profile's banner and cancel, a
damaged register opened read-only, and the log file that never holds a secret."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import shiboken6
from PySide6.QtWidgets import QMessageBox

from epay_desktop.api import Credentials, Environment, EPaymentClient
from epay_desktop.app import (
    LOG_FILE_NAME,
    Controller,
    close_logging,
    open_profile,
    remember_profile,
    setup_logging,
)
from epay_desktop.domain import Currency, Money, State
from epay_desktop.sandbox import SandboxConfig, create_app
from epay_desktop.services import (
    DEMO_PROFILE,
    PaymentDesk,
    Profile,
    ProfileKind,
    ProfileSecrets,
    ProfileStore,
    RegisterError,
    SecretStore,
    register_path,
)
from epay_desktop.ui.dialogs.settings import SettingsDialog
from epay_desktop.ui.window.main_window import MainWindow
from tests.support.sandbox_server import running_sandbox
from tests.ui.dialogs.helpers import MemoryKeyring
from tests.ui.test_window_integration import wait_until


@pytest.fixture
def served() -> Iterator[str]:
    with running_sandbox(SandboxConfig(data="empty", rate_limits=False)) as url:
        yield url


@pytest.fixture
def secrets() -> SecretStore:
    return SecretStore(backend=MemoryKeyring())


def custom_profile(base_url: str, name: str = "Shop over HTTP") -> Profile:
    return Profile(name, ProfileKind.CUSTOM, "223344", "demo-client", base_url)


@pytest.fixture
def app_run(
    ui_loop: asyncio.AbstractEventLoop, qapp: Any, qtbot: Any, secrets: SecretStore
) -> Callable[..., Any]:
    """Run ``scenario(controller)`` with a Controller whose first window is open on ``first``."""

    def runner(scenario: Callable[[Controller], Any], first: Profile = DEMO_PROFILE) -> Any:
        async def main() -> Any:
            # Not qtbot.addWidget: a switch deletes the first window itself.
            window = MainWindow(show_error_dialogs=False, auto_refresh_ms=3_600_000)
            window.show()
            controller = Controller(
                qapp,
                window,
                open_session=open_profile,
                remember_profile=remember_profile,
                secrets=secrets,
                show_error_dialogs=False,
            )
            try:
                await controller.start(first)
                return await scenario(controller)
            finally:
                for task in controller.runner.running():
                    await asyncio.wait_for(task, 10)
                await controller.aclose()
                for box in controller.window.findChildren(QMessageBox):
                    box.close()
                controller.window.close()
                if shiboken6.isValid(window):
                    window.close()
                # Delete now, inside this test (a deferred delete would land in a later test's loop).
                for done in {window, controller.window}:
                    if shiboken6.isValid(done):
                        shiboken6.delete(done)

        return ui_loop.run_until_complete(main())

    return runner


def test_switching_to_a_custom_profile_over_http(
    app_run: Callable[..., Any], served: str, secrets: SecretStore
) -> None:
    profile = custom_profile(served)
    ProfileStore().save(profile)
    secrets.set(profile, ProfileSecrets("demo-secret", "demo-subscription-key"))

    async def scenario(c: Controller) -> None:
        # A payment that exists at the served sandbox, tracked in the Custom profile's register.
        credentials = Credentials("demo-client", "demo-secret", "demo-subscription-key", "223344")
        async with EPaymentClient(Environment.sandbox(served), credentials) as client:
            await client.create_payment(
                reference="http-order-0001",
                amount=Money(5_000, Currency.DKK),
                description="Wienerbrød",
                user_flow="QR",
            )
        first_window, first_session = c.window, c.session
        assert first_session is not None
        assert first_window.desk is first_session.desk
        await wait_until(lambda: first_window.model.rowCount() > 0)
        await wait_until(lambda: not first_window.runner.is_running("load"), limit=10)
        # The person chooses the profile in Settings (what the dialog's profile_chosen does).
        first_window.switch_profile(profile)
        await wait_until(lambda: c.switched_to == [profile.name], limit=10)
        window = c.window
        assert window is not first_window
        assert not shiboken6.isValid(first_window) or not first_window.isVisible()
        assert window.desk is not None
        assert window.desk.profile == profile
        assert window.banner.objectName() == "TestBanner"
        assert "Shop over HTTP" in window.windowTitle()
        assert window.customer_panel is None  # no demo controls outside Demo
        assert c.session is not None
        assert c.session.desk is window.desk
        with pytest.raises(RegisterError, match="closed"):
            _ = first_session.desk.store.db.conn  # the old register was closed
        assert first_session.desk.changes.listeners == 0  # the old window follows it no more
        assert window.desk.store.path == register_path(profile)
        # The new session works over real HTTP: add the reference and watch it refresh.
        await window.desk.add_references("http-order-0001")
        window.refresh_references(["http-order-0001"])
        await wait_until(lambda: (t := window.model.tracked("http-order-0001")) is not None and t.payment)
        assert window.model.tracked("http-order-0001").payment.state is State.CREATED  # type: ignore[union-attr]
        assert ProfileStore().last_used == profile.name
        # And back to Demo from the Switch profile menu.
        window.profile_menu.fill()
        demo_entry = next(a for a in window.profile_menu.actions() if a.text().startswith("Demo"))
        demo_entry.trigger()
        await wait_until(lambda: c.switched_to[-1:] == ["Demo"], limit=10)
        assert c.window.desk is not None
        assert c.window.desk.profile.is_demo

    app_run(scenario)


def test_missing_secrets_show_a_message_and_settings_and_keep_the_open_profile(
    app_run: Callable[..., Any], served: str
) -> None:
    profile = custom_profile(served, "No secrets yet")
    ProfileStore().save(profile)

    async def scenario(c: Controller) -> None:
        window = c.window
        session = c.session
        window.switch_profile(profile)
        await wait_until(lambda: isinstance(window.last_dialog, SettingsDialog), limit=10)
        await wait_until(lambda: not c.runner.running())
        box = c.last_problem
        assert box.windowTitle() == "No secrets yet needs its secrets"
        assert "client secret and subscription key" in box.text()
        settings = window.last_dialog
        assert isinstance(settings, SettingsDialog)
        assert settings.editing is not None
        assert settings.editing.name == "No secrets yet"
        assert c.window is window  # nothing switched: the Demo profile is still open
        assert c.session is session
        assert c.switched_to == []
        settings.close()

    app_run(scenario)


def test_a_production_profile_is_unmistakable_and_cancel_asks_for_the_last_four(
    ui_loop: asyncio.AbstractEventLoop, qtbot: Any, tmp_path: Path
) -> None:
    """A Production-kind profile whose client talks to the in-process sandbox (no real API is touched)."""
    production = Profile("Live shop", ProfileKind.PRODUCTION, "123456", "demo-client")
    transport = httpx.ASGITransport(app=create_app(SandboxConfig(data="empty", rate_limits=False)))

    async def main() -> None:
        credentials = Credentials("demo-client", "demo-secret", "demo-subscription-key", "123456")
        async with EPaymentClient(
            Environment.sandbox("http://sandbox.epay.local"), credentials, transport=transport
        ) as client:
            desk = await PaymentDesk.open(production, client, tmp_path / "live.sqlite3")
            window = MainWindow(desk, show_error_dialogs=False, auto_refresh_ms=3_600_000)
            qtbot.addWidget(window)
            window.show()
            try:
                assert window.banner.objectName() == "ProductionBanner"
                assert "PRODUCTION" in window.banner.text()
                assert "#b71c1c" in window.banner.styleSheet()
                tracked = await desk.create_payment(Money(10_000, Currency.NOK), "Real coffee", None, "QR")
                window.on_payment_created(tracked)
                await wait_until(window.action("cancel-payment").isEnabled)
                window.action("cancel-payment").trigger()
                await wait_until(lambda: window.cancel_flow.dialog is not None)
                dialog = window.cancel_flow.dialog
                assert dialog is not None
                assert dialog.confirm_input is not None
                assert not dialog.cancel_button.isEnabled()
                dialog.confirm_input.setText("xxxx")
                assert not dialog.cancel_button.isEnabled()
                dialog.confirm_input.setText(tracked.reference[-4:])
                assert dialog.cancel_button.isEnabled()
                dialog.cancel_button.click()
                await wait_until(
                    lambda: window.model.tracked(tracked.reference).payment.state is State.TERMINATED  # type: ignore[union-attr]
                )
            finally:
                await window.shutdown()
                window.close()
                await desk.aclose()

    ui_loop.run_until_complete(main())


def damage(path: Path) -> None:
    """Overwrite the middle of a register file (past its header page) with noise."""
    data = bytearray(path.read_bytes())
    page = 4096
    assert len(data) > 3 * page, len(data)
    for i in range(page * 2, min(len(data), page * 2 + 2000)):
        data[i] = (i * 37) % 256
    path.write_bytes(bytes(data))


def test_a_damaged_register_offers_open_read_only(
    app_run: Callable[..., Any], ui_loop: asyncio.AbstractEventLoop, served: str, secrets: SecretStore
) -> None:
    profile = custom_profile(served, "Damaged shop")
    ProfileStore().save(profile)
    secrets.set(profile, ProfileSecrets("demo-secret", "demo-subscription-key"))
    path = register_path(profile)

    async def fill() -> None:
        credentials = Credentials("demo-client", "demo-secret", "demo-subscription-key", "223344")
        async with EPaymentClient(Environment.sandbox(served), credentials) as client:
            desk = await PaymentDesk.open(profile, client, path)
            await desk.add_references([f"order-2024-{i:04d}" for i in range(400)])
            await desk.aclose()

    ui_loop.run_until_complete(fill())
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    damage(path)

    async def scenario(c: Controller) -> None:
        window = c.window
        window.switch_profile(profile)
        await wait_until(lambda: not c.runner.running(), limit=10)
        box = c.last_problem
        assert box.windowTitle() == "The register cannot be opened"
        assert "damaged" in box.text()
        read_only = next(b for b in box.buttons() if b.text() == "Open read-only")
        read_only.click()
        await wait_until(lambda: bool(c.switched_to) or c.last_problem is not box, limit=10)
        await wait_until(lambda: not c.runner.running(), limit=10)
        assert c.switched_to == [profile.name]
        assert c.window.read_only
        assert "READ-ONLY" in c.window.banner.text()
        assert not c.window.action("cancel-payment").isEnabled()
        assert not c.window.action("new-payment").isEnabled()
        assert not c.window.action("add-payments").isEnabled()
        assert c.window.customer_panel is None
        # The rows that can still be read are listed (salvaged past the damaged pages).
        await wait_until(lambda: c.window.register_view.currentWidget() is c.window.register_view.table)
        assert 0 < c.window.model.rowCount() <= 400

    app_run(scenario)


def test_the_log_file_never_holds_a_secret(app_home: Path, tmp_path: Path) -> None:
    secret = "sk-live-very-secret-5f3a9c"
    EPaymentClient(  # registers its secrets with the redaction filter; never used
        Environment.sandbox("http://sandbox.epay.local"),
        Credentials("demo-client", secret, "sub-key-9d8e7f6a", "123456"),
    )
    handler = setup_logging()
    try:
        logging.getLogger("epay_desktop.services.desk").warning("token request with %s failed", secret)
        logging.getLogger("some.library").error("headers: Ocp-Apim-Subscription-Key: sub-key-9d8e7f6a")
        try:
            raise RuntimeError(f"client_secret={secret}")
        except RuntimeError:
            logging.getLogger("epay_desktop.ui.aio").exception("operation failed")
    finally:
        close_logging(handler)
    text = (app_home / "logs" / LOG_FILE_NAME).read_text(encoding="utf-8")
    assert "token request with [REDACTED] failed" in text
    assert "operation failed" in text
    assert "RuntimeError" in text
    assert secret not in text
    assert "sub-key-9d8e7f6a" not in text
    assert isinstance(handler, logging.handlers.RotatingFileHandler)
    assert handler.maxBytes > 0
    assert handler.backupCount > 0


def test_switching_during_a_cancel_finishes_it_first_and_says_so(
    app_run: Callable[..., Any], served: str, secrets: SecretStore
) -> None:
    profile = custom_profile(served, "Other shop")
    ProfileStore().save(profile)
    secrets.set(profile, ProfileSecrets("demo-secret", "demo-subscription-key"))

    async def scenario(c: Controller) -> None:
        first = c.window
        desk = first.desk
        assert desk is not None
        assert desk.demo is not None
        await wait_until(lambda: not first.runner.is_running("load"), limit=10)
        tracked = await desk.demo.new_payment(Money(4_200, Currency.NOK), "Slow bun")
        await desk.demo.controls.set_faults(latency_ms=300)
        cancel = asyncio.ensure_future(desk.cancel(tracked.reference))
        await wait_until(lambda: tracked.reference in desk.busy_references(), limit=10)
        first.switch_profile(profile)
        await wait_until(lambda: "Finishing the operation on" in first.statusBar().currentMessage())
        assert "(the request was already sent)" in first.statusBar().currentMessage()
        assert c.window is first  # nothing is switched while the call is in flight
        assert not cancel.done()
        await wait_until(lambda: c.switched_to == [profile.name], limit=15)
        assert cancel.done()
        assert (await cancel).released == Money(4_200, Currency.NOK)

    app_run(scenario)


def test_a_damaged_demo_sandbox_state_is_said_not_a_crash(
    app_run: Callable[..., Any], app_home: Path, served: str, secrets: SecretStore
) -> None:
    profile = custom_profile(served, "Fallback shop")
    ProfileStore().save(profile)
    secrets.set(profile, ProfileSecrets("demo-secret", "demo-subscription-key"))
    state = app_home / "data" / "demo-sandbox.sqlite3"
    state.parent.mkdir(parents=True, exist_ok=True)
    state.write_bytes(b"not a database" * 300)

    async def scenario(c: Controller) -> None:
        c.window.switch_profile(DEMO_PROFILE)
        await wait_until(lambda: not c.runner.running(), limit=10)
        box = c.last_problem
        assert box.windowTitle() == "Demo cannot be opened"
        assert "sandbox state file" in box.text()
        assert "cannot be used" in box.text()

    app_run(scenario, first=profile)
