"""Sizes that fit the screen: a window or dialog never opens beyond the screen's free area."""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtGui import QGuiApplication


def fitted_size(width: int, height: int) -> QSize:
    """``width`` × ``height``, but never larger than the screen's free area (a laptop at 200 %
    scaling has about 960 × 540 logical pixels): the window must never open beyond the screen."""
    free = QGuiApplication.primaryScreen().availableGeometry()
    return QSize(min(width, free.width()), min(height, free.height()))


__all__ = ["fitted_size"]
