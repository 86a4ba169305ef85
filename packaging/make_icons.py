"""Render the app icon (epay-desktop.svg) into the formats Windows and macOS want: ``windows/
epay-desktop.ico`` and ``macos/epay-desktop.icns`` (used by epay-desktop.spec through PyInstaller's
``icon=``). Qt's own image plugins write both, so nothing beyond PySide6 is needed.

    uv run python packaging/make_icons.py

Run it again after changing the SVG; tests/test_packaging.py checks the committed files still show it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

PACKAGING = Path(__file__).resolve().parent
SVG = PACKAGING / "epay-desktop.svg"
TARGETS = {PACKAGING / "windows" / "epay-desktop.ico": 256, PACKAGING / "macos" / "epay-desktop.icns": 512}


def render(size: int) -> object:
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    QSvgRenderer(str(SVG)).render(painter)
    painter.end()
    return image


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication(sys.argv[:1])  # noqa: F841  (image plugins need an application)
    for target, size in TARGETS.items():
        target.parent.mkdir(parents=True, exist_ok=True)
        image = render(size)
        if not image.save(str(target), target.suffix[1:]):  # type: ignore[attr-defined]
            print(f"make_icons: Qt could not write {target}", file=sys.stderr)
            return 1
        print(target.relative_to(PACKAGING.parent))
    return 0


if __name__ == "__main__":
    sys.exit(main())
