"""The main window: composes widgets and wires signals; no business logic here."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QMainWindow, QVBoxLayout, QWidget

from epay_desktop import __version__


class MainWindow(QMainWindow):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("epay-desktop")
        self.setObjectName("MainWindow")
        central = QWidget(self)
        layout = QVBoxLayout(central)
        banner = QLabel("DEMO: built-in sandbox. Nothing real is touched.", central)
        banner.setObjectName("DemoBanner")
        banner.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(banner)
        layout.addStretch(1)
        self.setCentralWidget(central)
        self.statusBar().showMessage(f"epay-desktop {__version__}")
        self.resize(1100, 700)
