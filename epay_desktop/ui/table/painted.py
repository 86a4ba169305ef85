"""The table's painted cells, kept as pixels: a cell asked to paint again exactly as before is copied.

A table repaints its visible cells far more often than any of them changes. Qt's item views repaint
their whole viewport when the window is activated or deactivated (a dialog opening over it, whatever
the palette) and when the view gains or loses the focus; a ranged ``dataChanged`` repaints every
visible cell of its range; a scroll, a selection or a tooltip repaints more. Each cell's paint runs in
Python (its roles through ``multiData``, then the style's drawing): 60–150 µs a cell, 15–25 ms for a
screen of the payments table — a dropped frame for nothing new to see.

Here each painted cell's pixels are kept by its row and column in the view's model, with everything
else its paint depends on: its size, the style's state flags (selected, current with focus, hover,
enabled, active), its features (an alternate row), the painter's scale to device pixels, and what the
model may change without announcing it (for the payments table the row's looks: its stale mark and
guarantee warning are judged against the model's clock, which moves every refresh; compared by value,
so a clock that moved without changing them leaves the pixels good). A paint with the same inputs
copies the pixels; any other is painted by the delegate into a new pixmap, kept and copied.

What a cell shows comes from the model, and the model announces every change of it, as it must for the
view to repaint at all: ``dataChanged`` drops the cells of its range; inserted, removed or moved rows or
columns, a layout change (a sort) and a reset drop every cell. So does a change of the view's palette,
font, style or layout direction. When the palette's Active and Inactive colour groups are equal (this
app's light and dark palettes), the Active flag is left out of the inputs: a cell looks the same either
way, so a dialog taking the focus repaints from the kept pixels.

The pixmap is painted as the view paints a cell: the viewport's background, the style's row panel
(alternate rows), then the delegate, at the cell's place; so the copy is the same pixels as a direct
paint. Where the scale to device pixels is fractional (or the painter rotates), a copy would not land
on whole device pixels: those cells are painted directly, as before.

A cell whose paint depends on nothing of its row but a value its delegate names (the State badge: its
text and the row's looks; the bar: its label and the looks) shares one painting with every cell of the
same value and inputs: fifty rows marked busy at once, or a refresh that cancels many, paint a handful
of badges and bars, then copy them.

Bounded: the pixels of about two screens of cells (the oldest are dropped first), and a hundred-odd
shared paintings.

Keeping can be held off (:meth:`PaintedCells.paint_directly`): every cell is then painted straight onto
the view, as when the painter's scale is fractional, and nothing is kept. For a paint whose cells are
dropped right after it (the start's first rows, before the rest of the list is inserted): painting a cell
into a new pixmap and copying it costs more than painting it (measured: about half the table's first
paint), and those pixels would never be copied.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QEvent, QModelIndex, QObject, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QApplication, QStyle, QStyleOptionViewItem, QWidget

from epay_desktop.ui.table.cells import AnyIndex

PaintCell = Callable[[QPainter, QStyleOptionViewItem, AnyIndex], None]

# How many screens of cells are kept (a screen: the viewport's area in device pixels).
SCREENS_KEPT = 2
# How many paintings shared by content are kept (a column shows a few dozen distinct ones).
SHARED_KEPT = 128

_ACTIVE = QStyle.StateFlag.State_Active.value
_ALL_STATES = ~0
_ROW_PANEL = QStyle.PrimitiveElement.PE_PanelItemViewRow
_CLEARING_EVENTS = frozenset(
    {
        QEvent.Type.PaletteChange,
        QEvent.Type.FontChange,
        QEvent.Type.StyleChange,
        QEvent.Type.LayoutDirectionChange,
    }
)


def device_scale(painter: QPainter) -> float:
    """How many device pixels a logical pixel of ``painter`` is (the device's pixel ratio, or the scale
    of a ``render()`` into a device of another ratio), when that is a whole number and the painter only
    scales and moves by whole device pixels; else 0: a copy would not land on whole pixels."""
    to_device = painter.deviceTransform()
    scale = to_device.m11()
    if (
        scale != to_device.m22()
        or scale % 1
        or scale < 1
        or to_device.dx() % 1
        or to_device.dy() % 1
        or to_device.m12()
        or to_device.m21()
    ):
        return 0
    return scale


def _background_of(viewport: QWidget) -> QColor | QBrush:
    """What the viewport's background is filled with: a plain colour (a pixmap fills with it at once)
    or the brush itself (a gradient or a texture, painted)."""
    brush = viewport.palette().brush(viewport.backgroundRole())
    return brush.color() if brush.style() == Qt.BrushStyle.SolidPattern else brush


class PaintedCells(QObject):
    """The kept pixels of ``view``'s cells, dropped by its model's signals (``model``: the model the
    view shows). ``unannounced(index)`` returns what else the cell at ``index`` depends on that the
    model may change without a signal; a cell whose answer differs (``!=``) is painted again."""

    def __init__(
        self,
        view: QAbstractItemView,
        model: Any,
        unannounced: Callable[[AnyIndex], object] = lambda _index: None,
    ) -> None:
        super().__init__(view)
        self._view = view
        self._unannounced = unannounced
        self._cells: dict[tuple[int, int], tuple[tuple[object, ...], QPixmap, int]] = {}
        # Paintings shared by content (see ``paint``), whatever their row: kept through changes of
        # rows, since their key holds all they show.
        self._shared: dict[tuple[object, ...], QPixmap] = {}
        self._pixels = 0  # device pixels kept
        self._state_mask = self._mask_for(view.palette())
        self._background: QColor | QBrush | None = None  # the viewport's, worked out when first needed
        self._directly = False  # every cell painted straight onto the view, nothing kept
        self.painted = 0  # cells painted by their delegate (tests and benchmarks read these two)
        self.copied = 0
        model.dataChanged.connect(self._data_changed)
        for signal in (
            model.modelReset,
            model.layoutChanged,
            model.rowsInserted,
            model.rowsRemoved,
            model.rowsMoved,
            model.columnsInserted,
            model.columnsRemoved,
            model.columnsMoved,
        ):
            signal.connect(self.clear)
        view.installEventFilter(self)

    # --- painting ---------------------------------------------------------------------------------
    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: AnyIndex,
        paint_cell: PaintCell,
        content: object = None,
    ) -> None:
        """Paint the cell at ``index``: a copy of its kept pixels when its inputs are the same as when
        they were painted, else ``paint_cell`` (the delegate's own paint) into new kept pixels.

        ``content``: for a cell whose paint depends on nothing of its row but this (hashable) value,
        besides the other inputs; cells with equal content and inputs share one painting (fifty rows
        marked busy at once show a handful of distinct State badges). None: the row's own."""
        ratio = device_scale(painter) if not self._directly else 0
        if not ratio:
            paint_cell(painter, option, index)
            return
        rect = option.rect
        inputs = (
            rect.width(),
            rect.height(),
            option.state.value & self._state_mask,
            option.features.value,
            ratio,
            self._unannounced(index),
        )
        where = (index.row(), index.column())
        kept = self._cells.get(where)
        if kept is not None and kept[0] == inputs:
            self.copied += 1
            painter.drawPixmap(rect.x(), rect.y(), kept[1])
            return
        alike = (where[1], inputs, content) if content is not None else None
        shared = self._shared.get(alike) if alike is not None else None
        if shared is not None:
            pixmap = shared
            self.copied += 1
        else:
            pixmap = self._painted(painter, option, index, paint_cell, ratio)
            self.painted += 1
            if alike is not None:
                if len(self._shared) >= SHARED_KEPT:
                    self._shared.clear()
                self._shared[alike] = pixmap
        painter.drawPixmap(rect.x(), rect.y(), pixmap)
        self._keep(where, inputs, pixmap)

    def _painted(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: AnyIndex,
        paint_cell: PaintCell,
        ratio: float,
    ) -> QPixmap:
        """The cell painted as the view paints it, into a pixmap of its size."""
        rect = option.rect
        pixmap = QPixmap(math.ceil(rect.width() * ratio), math.ceil(rect.height() * ratio))
        pixmap.setDevicePixelRatio(ratio)
        view = self._view
        background = self._background
        if background is None:
            background = self._background = _background_of(view.viewport())
        if isinstance(background, QColor):
            pixmap.fill(background)
        cell = QPainter(pixmap)
        # At the cell's own place, so whatever the delegate and the style work out from its rectangle
        # (a centred badge, where text starts) falls on the same pixels as a direct paint.
        cell.translate(-rect.x(), -rect.y())
        if isinstance(background, QBrush):
            cell.fillRect(rect, background)
        # What the view draws under each cell before its delegate (the alternate rows' colour).
        style = view.style() or QApplication.style()
        style.drawPrimitive(_ROW_PANEL, option, cell, view)
        paint_cell(cell, option, index)
        cell.end()
        return pixmap

    def _keep(self, where: tuple[int, int], inputs: tuple[object, ...], pixmap: QPixmap) -> None:
        size = pixmap.width() * pixmap.height()
        old = self._cells.pop(where, None)
        if old is not None:
            self._pixels -= old[2]
        viewport = self._view.viewport()
        ratio = pixmap.devicePixelRatio()
        budget = SCREENS_KEPT * viewport.width() * viewport.height() * ratio * ratio
        while self._cells and self._pixels + size > budget:
            oldest = next(iter(self._cells))
            self._pixels -= self._cells.pop(oldest)[2]
        self._cells[where] = (inputs, pixmap, size)
        self._pixels += size

    def paint_directly(self, directly: bool) -> None:
        """Paint every cell straight onto the view and keep none (``True``; see the module docstring),
        or keep them again (``False``). Cells kept before are left as they are."""
        self._directly = directly

    # --- what drops kept cells ------------------------------------------------------------------------
    def clear(self) -> None:
        self._cells.clear()
        self._pixels = 0

    def _restyled(self) -> None:
        """The palette, font or style changed: nothing kept looks right any more."""
        self._state_mask = self._mask_for(self._view.palette())
        self._background = None
        self._shared.clear()
        self.clear()

    def kept(self) -> int:
        """How many cells are kept."""
        return len(self._cells)

    def kept_pixels(self) -> int:
        """How many device pixels the kept cells hold."""
        return self._pixels

    def _data_changed(self, top: QModelIndex, bottom: QModelIndex, _roles: object = None) -> None:
        first, last = top.row(), bottom.row()
        left, right = top.column(), bottom.column()
        stale = [where for where in self._cells if first <= where[0] <= last and left <= where[1] <= right]
        for where in stale:
            self._pixels -= self._cells.pop(where)[2]

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._view and event.type() in _CLEARING_EVENTS:
            self._restyled()
        return False

    @staticmethod
    def _mask_for(palette: QPalette) -> int:
        """The state flags a cell's look depends on: all of them, less Active where the palette's Active
        and Inactive colour groups are the same (the style and our delegates pick colours by it)."""
        same = palette.isEqual(QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive)
        return _ALL_STATES & ~_ACTIVE if same else _ALL_STATES


__all__ = ["SCREENS_KEPT", "SHARED_KEPT", "PaintCell", "PaintedCells", "device_scale"]
