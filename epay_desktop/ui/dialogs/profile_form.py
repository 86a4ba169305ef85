"""The settings dialog's form for one profile: name, environment, base URL, merchant serial number,
client id and the two secrets (typed only, never shown again once stored).

The form holds no state of its own beyond its widgets: the dialog tells it which saved profile it is
editing (``editing``; the built-in Demo profile is shown read-only) and reads the profile back with
:meth:`ProfileForm.profile`.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QRegularExpressionValidator
from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QGroupBox, QLabel, QLineEdit, QWidget

from epay_desktop.domain import Currency
from epay_desktop.i18n import N_, _, translate
from epay_desktop.services import Profile, ProfileKind

PRODUCTION_RED = "#b00020"
KIND_LABELS = {
    ProfileKind.DEMO: N_("Demo (built-in sandbox)"),
    ProfileKind.TEST: N_("Test (apitest.vipps.no)"),
    ProfileKind.PRODUCTION: N_("Production (api.vipps.no): real money"),
    ProfileKind.CUSTOM: N_("Custom base URL"),
    ProfileKind.TEAM: N_("Team (a support desk's epay-team server)"),
}
# A sales unit takes one currency, the one of its country.
CURRENCY_LABELS = {
    Currency.NOK: N_("NOK — Norway"),
    Currency.DKK: N_("DKK — Denmark"),
    Currency.EUR: N_("EUR — Finland"),
}


TEAM_SECRETS = N_("The team server holds the merchant's secrets; you log in with your agent name.")


class ProfileForm(QGroupBox):
    """One profile's fields and secrets (object name ``ProfileForm``), red-framed for Production."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(_("Profile"), parent)
        self.setObjectName("ProfileForm")
        self.name_edit = self._line_edit("ProfileName", _("Profile name"))
        self.kind_combo = QComboBox(self)
        self.kind_combo.setObjectName("ProfileKind")
        self.kind_combo.setAccessibleName(_("Environment"))
        for kind, label in KIND_LABELS.items():
            self.kind_combo.addItem(translate(label), kind)
        self.kind_combo.setItemData(
            self.kind_combo.findData(ProfileKind.PRODUCTION),
            QBrush(QColor(PRODUCTION_RED)),
            Qt.ItemDataRole.ForegroundRole,
        )
        self.base_url_edit = self._line_edit("BaseUrl", _("Base URL"))
        self.base_url_edit.setPlaceholderText("https://…")
        self.unencrypted_check = QCheckBox(
            _("This is a sandbox: plain http:// to another machine is not encrypted"), self
        )
        self.unencrypted_check.setObjectName("UnencryptedSandbox")
        self.unencrypted_check.setAccessibleName(_("Confirm an unencrypted sandbox"))
        self.msn_edit = self._line_edit("MerchantSerialNumber", _("Merchant serial number"))
        self.msn_edit.setValidator(QRegularExpressionValidator(r"[0-9]{0,7}", self.msn_edit))
        self.msn_edit.setPlaceholderText(_("4 to 10 digits"))
        self.currency_combo = QComboBox(self)
        self.currency_combo.setObjectName("ProfileCurrency")
        self.currency_combo.setAccessibleName(_("Currency of the sales unit"))
        self.currency_combo.setToolTip(
            _("The one currency the sales unit takes: NOK in Norway, DKK in Denmark, EUR in Finland.")
        )
        for currency, label in CURRENCY_LABELS.items():
            self.currency_combo.addItem(translate(label), currency.value)
        self.agent_edit = self._line_edit("TeamAgent", _("Agent name"))
        self.agent_edit.setPlaceholderText(_("the name you log in with"))
        self.client_id_edit = self._line_edit("ClientId", _("Client id"))
        self.client_secret_edit = self._line_edit("ClientSecret", _("Client secret"))
        self.subscription_key_edit = self._line_edit("SubscriptionKey", _("Subscription key"))
        for secret in (self.client_secret_edit, self.subscription_key_edit):
            secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.secrets_state = QLabel(self)
        self.secrets_state.setObjectName("SecretsState")
        self.secrets_state.setWordWrap(True)

        form = QFormLayout()
        form.addRow(_("&Name"), self.name_edit)
        form.addRow(_("&Environment"), self.kind_combo)
        form.addRow(_("Base &URL"), self.base_url_edit)
        form.addRow("", self.unencrypted_check)
        form.addRow(_("&Merchant serial number"), self.msn_edit)
        form.addRow(_("C&urrency"), self.currency_combo)
        form.addRow(_("&Agent name"), self.agent_edit)
        self.agent_label = form.labelForField(self.agent_edit)
        form.addRow(_("Client &id"), self.client_id_edit)
        form.addRow(_("Client &secret"), self.client_secret_edit)
        form.addRow(_("Subscription &key"), self.subscription_key_edit)
        form.addRow("", self.secrets_state)
        self.setLayout(form)
        self._secret_rows = [
            (form.labelForField(w), w)
            for w in (self.client_id_edit, self.client_secret_edit, self.subscription_key_edit)
        ]

    def _line_edit(self, object_name: str, accessible_name: str) -> QLineEdit:
        edit = QLineEdit(self)
        edit.setObjectName(object_name)
        edit.setAccessibleName(accessible_name)
        return edit

    def fill(self, profile: Profile | None) -> None:
        """Show ``profile`` (None: an empty new Test profile). Secret fields stay empty."""
        shown = profile or Profile("", ProfileKind.TEST, "", "")
        self.name_edit.setText(shown.name)
        self.kind_combo.setCurrentIndex(self.kind_combo.findData(shown.kind))
        self.msn_edit.setText(shown.merchant_serial_number)
        self.client_id_edit.setText(shown.client_id)
        self.agent_edit.setText(shown.agent)
        self.base_url_edit.setText(shown.base_url or "")
        self.currency_combo.setCurrentIndex(self.currency_combo.findData(shown.currency.value))
        self.unencrypted_check.setChecked(shown.unencrypted_sandbox)
        self.clear_secrets()
        self.secrets_state.setText(
            _("Type the client secret and the subscription key.")
            if profile is None
            else _("Checking the keyring…")
        )

    def apply_kind(self, editing: Profile | None) -> None:
        """Restyle and enable the fields for the chosen environment (read-only for the built-in Demo)."""
        kind = self.current_kind()
        builtin = editing is not None and editing.is_demo
        production = kind is ProfileKind.PRODUCTION
        self.setStyleSheet(
            f"QGroupBox#ProfileForm {{ border: 2px solid {PRODUCTION_RED}; margin-top: 1.2em; }}"
            f"QGroupBox#ProfileForm::title {{ color: {PRODUCTION_RED}; subcontrol-origin: margin; "
            "left: 8px; }"
            if production
            else ""
        )
        self.kind_combo.setStyleSheet(f"color: {PRODUCTION_RED}; font-weight: bold;" if production else "")
        for widget in (
            self.name_edit,
            self.kind_combo,
            self.msn_edit,
            self.currency_combo,
            self.client_id_edit,
            self.client_secret_edit,
            self.subscription_key_edit,
        ):
            widget.setEnabled(not builtin)
        custom = kind is ProfileKind.CUSTOM
        team = kind is ProfileKind.TEAM
        # A Team profile logs in as an agent: the team server holds the merchant's credentials.
        for label, widget in self._secret_rows:
            label.setVisible(not team)
            widget.setVisible(not team)
        self.agent_edit.setVisible(team)
        self.agent_label.setVisible(team)
        self.agent_edit.setEnabled(not builtin)
        self.base_url_edit.setReadOnly(not (custom or team) or builtin)
        self.base_url_edit.setEnabled((custom or team) and not builtin)
        self.unencrypted_check.setVisible(custom and not builtin)
        if team:
            self.base_url_edit.setPlaceholderText("https://team.example.no")
            self.secrets_state.setText(translate(TEAM_SECRETS))
        elif self.secrets_state.text() == translate(TEAM_SECRETS):
            self.secrets_state.setText(_("Type the client secret and the subscription key."))
        if not (custom or team):
            self.base_url_edit.setText(self.profile(editing).effective_base_url)
        if builtin:
            self.secrets_state.setText(_("Demo credentials are built in."))

    def current_kind(self) -> ProfileKind:
        # Qt hands the StrEnum back as a plain str.
        kind = self.kind_combo.currentData()
        return ProfileKind(kind) if kind in {k.value for k in ProfileKind} else ProfileKind.TEST

    def profile(self, editing: Profile | None) -> Profile:
        """The profile as the form shows it now (not validated, not saved); the built-in ``editing``
        profile as it is."""
        if editing is not None and editing.is_demo:
            return editing
        kind = self.current_kind()
        return Profile(
            name=self.name_edit.text().strip(),
            kind=kind,
            merchant_serial_number=self.msn_edit.text().strip(),
            client_id=self.client_id_edit.text().strip(),
            base_url=self.base_url_edit.text().strip() or None
            if kind in (ProfileKind.CUSTOM, ProfileKind.TEAM)
            else None,
            currency=Currency(self.currency_combo.currentData() or Currency.NOK.value),
            register=editing.register if editing is not None else None,  # a rename keeps the register
            unencrypted_sandbox=kind is ProfileKind.CUSTOM and self.unencrypted_check.isChecked(),
            agent=self.agent_edit.text().strip() if kind is ProfileKind.TEAM else "",
        )

    def typed_secrets(self) -> tuple[str, str]:
        return self.client_secret_edit.text(), self.subscription_key_edit.text()

    def clear_secrets(self) -> None:
        self.client_secret_edit.clear()
        self.subscription_key_edit.clear()


__all__ = ["CURRENCY_LABELS", "KIND_LABELS", "PRODUCTION_RED", "ProfileForm"]
