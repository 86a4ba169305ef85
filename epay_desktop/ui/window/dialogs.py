"""The dialogs the main window opens, in one place, each imported when first opened.

The register's dialogs pull in the services, segno and the keyring; none of that is needed to paint the
window, so they are imported here, when a person first asks for one (start-up stays fast). Every
dialog is opened with ``open()`` (window-modal, never ``exec()``) and deletes itself when closed.

:class:`WindowDialogs` knows the open desk and what the dialogs need besides (the secret store, the
Demo's in-process sandbox, the payments shown); what the dialogs report comes out as its signals:
``references_added(list)``, ``payment_created(TrackedPayment)``, ``profile_chosen(Profile)``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QDialog, QMessageBox, QWidget

from epay_desktop.domain import Currency, TrackedPayment
from epay_desktop.i18n import _
from epay_desktop.ui.first_paint import set_qt_enum

if TYPE_CHECKING:
    from epay_desktop.services import DeskSurface, Profile, ProfileSecrets, SecretStore


def profile_currency(desk: DeskSurface | None, payments: Sequence[TrackedPayment]) -> Currency | None:
    """The profile's currency: ``Profile.currency`` when it has one, else what its payments use, else
    the demo merchant's; None lets the dialog offer a choice."""
    from epay_desktop.ui.dialogs.demo_payment import DEMO_CURRENCIES  # not needed to paint

    if desk is None:
        return None
    currency = getattr(desk.profile, "currency", None)
    if isinstance(currency, Currency):
        return currency
    for tracked in payments:
        if tracked.payment is not None:
            return tracked.payment.amount.currency
    return DEMO_CURRENCIES.get(desk.profile.merchant_serial_number) if desk.profile.is_demo else None


class WindowDialogs(QObject):
    references_added = Signal(list)
    payment_created = Signal(object)
    profile_chosen = Signal(object)

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self._parent = parent
        self.desk: DeskSurface | None = None
        self.payments: Callable[[], Sequence[TrackedPayment]] = tuple
        self.secret_store: SecretStore | None = None  # one for the app; the composition root sets it
        self.sandbox_transport: Any = None  # the Demo's in-process sandbox (Test connection uses it)
        self.wanted_profile: str | None = None  # the profile being opened (Settings selects it)
        self.last: QDialog | None = None

    def bind(self, desk: DeskSurface, payments: Callable[[], Sequence[TrackedPayment]]) -> None:
        self.desk = desk
        self.payments = payments
        self.wanted_profile = desk.profile.name

    def use_secret_store(self, secret_store: SecretStore | None) -> None:
        """The app's one secret store (the composition root's)."""
        self.secret_store = secret_store

    def use_sandbox(self, transport: Any) -> None:
        """The Demo session's in-process sandbox: Settings' Test connection of the Demo goes there."""
        self.sandbox_transport = transport

    def expect_profile(self, name: str) -> None:
        """``name`` is being opened (before a desk is bound, Settings selects it)."""
        if self.desk is None:
            self.wanted_profile = name

    def _opened(self, dialog: QDialog) -> QDialog:
        from PySide6.QtCore import Qt  # not before the first paint (ui/first_paint.py)

        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.last = dialog
        dialog.open()
        return dialog

    def open_add_payments(self, *, import_csv: bool = False) -> QDialog:
        from epay_desktop.ui.dialogs.add_payments import AddPaymentsDialog

        assert self.desk is not None
        dialog = AddPaymentsDialog(self.desk, parent=self._parent)
        dialog.references_added.connect(self.references_added)
        self._opened(dialog)
        if import_csv:
            dialog.start_import()
        return dialog

    def open_new_payment(self) -> QDialog:
        from epay_desktop.ui.dialogs.create_payment import CreatePaymentDialog

        assert self.desk is not None
        currency = profile_currency(self.desk, self.payments())
        dialog = CreatePaymentDialog(self.desk, parent=self._parent, currency=currency)
        dialog.payment_created.connect(self.payment_created)
        return self._opened(dialog)

    def open_settings(self, *, select: str | None = None) -> QDialog:
        from epay_desktop.services import ProfileStore, SecretStore, test_connection
        from epay_desktop.ui.dialogs.settings import SettingsDialog

        if self.secret_store is None:
            self.secret_store = SecretStore()
        transport = self.sandbox_transport

        async def tester(profile: Profile, secrets: ProfileSecrets | None) -> Any:
            return await test_connection(profile, secrets, transport=transport if profile.is_demo else None)

        current = select or (self.desk.profile.name if self.desk is not None else self.wanted_profile)
        dialog = SettingsDialog(
            ProfileStore(), self.secret_store, test_connection=tester, current=current, parent=self._parent
        )
        dialog.profile_chosen.connect(self.profile_chosen)
        return self._opened(dialog)

    def open_audit(self) -> QDialog:
        from epay_desktop.ui.dialogs.audit import AuditDialog

        assert self.desk is not None
        return self._opened(AuditDialog(self.desk, parent=self._parent))

    def show_about(self) -> QDialog:
        from epay_desktop import APP_NAME, __version__, paths

        box = QMessageBox(self._parent)
        box.setWindowTitle(_("About {app}").format(app=APP_NAME))
        box.setIcon(QMessageBox.Icon.Information)
        box.setText(f"<b>{APP_NAME} {__version__}</b>")
        box.setInformativeText(
            _(
                "A back-office for merchants that take Vipps MobilePay payments through the ePayment API: "
                "track payments, see what was captured, refunded and cancelled, and cancel safely.\n\n"
                "MIT licence.\n\n"
                # Support asks for this file: its path can be selected and copied.
                "Log file: {log_file}"
            ).format(log_file=paths.log_file())
        )
        set_qt_enum(box, "textInteractionFlags", "TextSelectableByMouse")
        box.setAccessibleName(_("About {app}").format(app=APP_NAME))
        box.setStandardButtons(QMessageBox.StandardButton.Close)
        return self._opened(box)

    def show_problem(self, title: str, text: str, *, buttons: tuple[str, ...] = ()) -> QMessageBox:
        """A non-blocking warning; ``buttons`` are extra choices (their text); returns the box (open)."""
        box = QMessageBox(self._parent)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle(title)
        box.setText(text)
        box.setAccessibleName(title)
        set_qt_enum(box, "textInteractionFlags", "TextSelectableByMouse")
        for label in buttons:
            box.addButton(label, QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Close)
        self._opened(box)
        return box


__all__ = ["WindowDialogs", "profile_currency"]
