"""The login dialog of a Team profile: the agent's password for the team server.

Opened with ``open()`` (never ``exec()``): the person types the password and presses Log in, which
emits ``login_requested(password)``; whoever opened it logs in (asynchronously) and either ``accept()``s
the dialog or shows why not with :meth:`LoginDialog.show_problem`, leaving it open to try again. The
password is never kept: the field is cleared after each attempt.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from epay_desktop.i18n import _


class LoginDialog(QDialog):
    login_requested = Signal(str)

    def __init__(self, server: str, agent: str, reason: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("TeamLoginDialog")
        self.setWindowTitle(_("Log in to the team server"))
        self.intro = QLabel(
            _("Log in to {server} to work on the team's payments.").format(server=server), self
        )
        self.intro.setWordWrap(True)
        self.reason = QLabel(reason, self)
        self.reason.setObjectName("LoginReason")
        self.reason.setWordWrap(True)
        self.reason.setVisible(bool(reason))
        self.agent = QLabel(agent, self)
        self.agent.setObjectName("LoginAgent")
        self.password = QLineEdit(self)
        self.password.setObjectName("LoginPassword")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setAccessibleName(_("Password"))
        self.problem = QLabel(self)
        self.problem.setObjectName("LoginProblem")
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #b00020;")
        self.problem.hide()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        self.login_button = self.buttons.addButton(_("Log in"), QDialogButtonBox.ButtonRole.ActionRole)
        self.login_button.setObjectName("LoginButton")
        self.login_button.setDefault(True)
        self.login_button.clicked.connect(self._login_clicked)
        self.password.returnPressed.connect(self._login_clicked)
        self.buttons.rejected.connect(self.reject)

        form = QFormLayout()
        form.addRow(_("Agent"), self.agent)
        form.addRow(_("&Password"), self.password)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addWidget(self.reason)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        self.password.setFocus()

    def _login_clicked(self) -> None:
        password = self.password.text()
        if not password:
            self.show_problem(_("Type your password."))
            return
        self.password.clear()
        self.set_busy(True)
        self.login_requested.emit(password)

    def set_busy(self, busy: bool) -> None:
        self.login_button.setEnabled(not busy)
        self.password.setEnabled(not busy)
        if busy:
            self.problem.setText(_("Logging in…"))
            self.problem.setStyleSheet("")
            self.problem.show()

    def show_problem(self, text: str) -> None:
        """Why the login did not work; the dialog stays open for another try."""
        self.set_busy(False)
        self.problem.setStyleSheet("color: #b00020;")
        self.problem.setText(text)
        self.problem.show()
        self.password.setFocus()


__all__ = ["LoginDialog"]
