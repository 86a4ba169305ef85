"""Look: icons from ``resources/icons`` (plain SVG), the banners that say where you are, a dark palette.

The banner colours are fixed on purpose (the same in light and dark palettes): DEMO is amber and says
nothing real is touched; PRODUCTION is red and unmistakable.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QColor, QIcon, QPalette
from PySide6.QtWidgets import QAbstractScrollArea, QApplication, QLabel, QStyleFactory, QWidget

from epay_desktop.paths import resource

BANNER_STYLES = {
    "demo": "background:#ffd54f; color:#3e2723; font-weight:bold; padding:4px;",
    "test": "background:#1565c0; color:#ffffff; font-weight:bold; padding:4px;",
    "production": "background:#b71c1c; color:#ffffff; font-weight:bold; padding:6px; font-size:110%;",
    "opening": "background:#607d8b; color:#ffffff; font-weight:bold; padding:4px;",
    "read-only": "background:#6a1b9a; color:#ffffff; font-weight:bold; padding:4px;",
    "team": "background:#00695c; color:#ffffff; font-weight:bold; padding:4px;",
}

# On the dialogs that have one (the cancel dialog), not on the window: a style sheet on the window
# would route every widget of it, and every table cell, through the slower style-sheet style.
DESTRUCTIVE_BUTTON_STYLE = "QPushButton#DestructiveButton:enabled { color: #ffffff; background: #c62828; }"


def icon(name: str) -> QIcon:
    path = resource("icons", f"{name}.svg")
    return QIcon(str(path)) if path.exists() else QIcon()


def banner(kind: str, text: str, parent: QWidget | None = None) -> QLabel:
    label = QLabel(parent)
    label.setWordWrap(True)
    set_banner(label, kind, text)
    return label


def set_banner(label: QLabel, kind: str, text: str) -> None:
    """Restyle a banner in place (the window's banner changes when a profile is bound to it)."""
    label.setText(text)
    label.setObjectName(f"{kind.title().replace('-', '')}Banner")
    label.setAccessibleName(text)
    label.setStyleSheet(BANNER_STYLES.get(kind, BANNER_STYLES["test"]))


def dark_palette() -> QPalette:
    palette = QPalette()
    base, window, text = QColor("#1e1f22"), QColor("#2b2d30"), QColor("#e6e6e6")
    disabled = QColor("#7a7a7a")
    for role, colour in (
        (QPalette.ColorRole.Window, window),
        (QPalette.ColorRole.WindowText, text),
        (QPalette.ColorRole.Base, base),
        (QPalette.ColorRole.AlternateBase, QColor("#26282b")),
        (QPalette.ColorRole.ToolTipBase, window),
        (QPalette.ColorRole.ToolTipText, text),
        (QPalette.ColorRole.PlaceholderText, QColor("#9a9a9a")),
        (QPalette.ColorRole.Text, text),
        (QPalette.ColorRole.Button, window),
        (QPalette.ColorRole.ButtonText, text),
        (QPalette.ColorRole.BrightText, QColor("#ff6e6e")),
        (QPalette.ColorRole.Highlight, QColor("#2f65ca")),
        (QPalette.ColorRole.HighlightedText, QColor("#ffffff")),
        (QPalette.ColorRole.Link, QColor("#7aa7ff")),
        (QPalette.ColorRole.Mid, QColor("#55585d")),
        (QPalette.ColorRole.Dark, QColor("#151618")),
        (QPalette.ColorRole.Light, QColor("#3a3c40")),
    ):
        palette.setColor(role, colour)
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, disabled)
    return palette


def apply_style(app: QApplication, *, dark: bool = False) -> None:
    """Fusion everywhere (the same look on every platform and offscreen), optionally dark."""
    # Where Fusion is the platform's default already (offscreen, many Linux desktops), creating a second
    # one would cost a few milliseconds before the first paint for nothing.
    if app.style().name().lower() != "fusion" and (fusion := QStyleFactory.create("Fusion")) is not None:
        app.setStyle(fusion)
    if dark:
        app.setPalette(dark_palette())
    app.setWindowIcon(icon("app"))


class SteadyOnActivation(QObject):
    """Keeps an item view from repainting its whole viewport when its window is activated or
    deactivated (a dialog opening over it, or closing) while that cannot change what it shows.

    Qt repaints a widget on (de)activation only when its palette's Active and Inactive colour groups
    differ (``QWidget::event``); an item view repaints its viewport on every (de)activation, whatever
    the palette (``QAbstractItemView::viewportEvent``). With equal groups, as in this app's light and
    dark palettes, nothing drawn there depends on activation (the style and the delegates pick colours
    by the group), so the event is held back from the viewport; with groups that differ it passes and
    the view repaints as usual."""

    def __init__(self, view: QAbstractScrollArea) -> None:
        super().__init__(view)
        self._view = view
        view.viewport().installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind is QEvent.Type.WindowActivate or kind is QEvent.Type.WindowDeactivate:
            return self._view.palette().isEqual(QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive)
        return False
