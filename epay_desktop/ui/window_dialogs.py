"""The dialogs the main window opens, in one place, imported on first use.

The register's dialogs pull in the services, segno and the keyring; none of that is needed to paint the
window, so they are imported here, when a person first asks for one (start-up stays fast). Every
dialog is opened with ``open()`` (window-modal, never ``exec()``) and deletes itself when closed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QMessageBox

from epay_desktop.domain import Currency

if TYPE_CHECKING:
    from epay_desktop.services import Profile, ProfileSecrets
    from epay_desktop.ui.main_window import MainWindow

# The demo merchants of the sandbox (shared contract).
DEMO_CURRENCIES = {"123456": Currency.NOK, "223344": Currency.DKK, "334455": Currency.EUR}


def profile_currency(window: MainWindow) -> Currency | None:
    """The profile's currency: ``Profile.currency`` when it has one, else what its payments use, else
    the demo merchant's; None lets the dialog offer a choice."""
    desk = window.desk
    if desk is None:
        return None
    currency = getattr(desk.profile, "currency", None)
    if isinstance(currency, Currency):
        return currency
    for tracked in window.model.payments():
        if tracked.payment is not None:
            return tracked.payment.amount.currency
    return DEMO_CURRENCIES.get(desk.profile.merchant_serial_number) if desk.profile.is_demo else None


def _opened(window: MainWindow, dialog: QDialog) -> QDialog:
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    window.last_dialog = dialog
    dialog.open()
    return dialog


def open_add_payments(window: MainWindow, *, import_csv: bool = False) -> QDialog:
    from epay_desktop.ui.register.add_dialog import AddPaymentsDialog

    assert window.desk is not None
    dialog = AddPaymentsDialog(window.desk, parent=window)
    dialog.references_added.connect(window.refresh_references)
    _opened(window, dialog)
    if import_csv:
        dialog.start_import()
    return dialog


def open_new_payment(window: MainWindow) -> QDialog:
    from epay_desktop.ui.register.create_dialog import CreatePaymentDialog

    assert window.desk is not None
    dialog = CreatePaymentDialog(window.desk, parent=window, currency=profile_currency(window))
    dialog.payment_created.connect(window.on_payment_created)
    return _opened(window, dialog)


def open_settings(window: MainWindow, *, select: str | None = None) -> QDialog:
    from epay_desktop.services import ProfileStore, SecretStore, test_connection
    from epay_desktop.ui.register.settings_dialog import SettingsDialog

    if window.secret_store is None:
        window.secret_store = SecretStore()
    transport = window.sandbox_transport

    async def tester(profile: Profile, secrets: ProfileSecrets | None) -> Any:
        return await test_connection(profile, secrets, transport=transport if profile.is_demo else None)

    current = select or (window.desk.profile.name if window.desk is not None else window.wanted_profile)
    dialog = SettingsDialog(
        ProfileStore(), window.secret_store, test_connection=tester, current=current, parent=window
    )
    dialog.profile_chosen.connect(window.switch_profile)
    return _opened(window, dialog)


def open_audit(window: MainWindow) -> QDialog:
    from epay_desktop.ui.register.audit_view import AuditDialog

    assert window.desk is not None
    return _opened(window, AuditDialog(window.desk, parent=window))


def show_about(window: MainWindow) -> QDialog:
    from epay_desktop import APP_NAME, __version__, paths

    box = QMessageBox(window)
    box.setWindowTitle(f"About {APP_NAME}")
    box.setIcon(QMessageBox.Icon.Information)
    box.setText(f"<b>{APP_NAME} {__version__}</b>")
    box.setInformativeText(
        "A back-office for merchants that take Vipps MobilePay payments through the ePayment API: "
        "track payments, see what was captured, refunded and cancelled, and cancel safely.\n\n"
        "MIT licence.\n\n"
        # Support asks for this file: its path can be selected and copied.
        f"Log file: {paths.log_file()}"
    )
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    box.setAccessibleName(f"About {APP_NAME}")
    box.setStandardButtons(QMessageBox.StandardButton.Close)
    return _opened(window, box)


def show_problem(window: MainWindow, title: str, text: str, *, buttons: tuple[str, ...] = ()) -> QMessageBox:
    """A non-blocking warning; ``buttons`` are extra choices (their text); returns the box (open)."""
    box = QMessageBox(window)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle(title)
    box.setText(text)
    box.setAccessibleName(title)
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    for label in buttons:
        box.addButton(label, QMessageBox.ButtonRole.AcceptRole)
    box.addButton(QMessageBox.StandardButton.Close)
    _opened(window, box)
    return box


__all__ = [
    "DEMO_CURRENCIES",
    "open_add_payments",
    "open_audit",
    "open_new_payment",
    "open_settings",
    "profile_currency",
    "show_about",
    "show_problem",
]
