"""Painters for the payments table: the state badge and the aggregate bar.

Both follow the orange-widget-base ``BarItemDataDelegate`` recipe: copy the option →
``initStyleOption`` → draw the item with the widget's style (selection, focus and the palette come
for free, dark mode too) → ``save()`` → our shapes → ``restore()`` → text. The text's place is the
style's (``style.subElementRect(SE_ItemViewItemText)``) and its colour the palette's for the item's
state (:func:`text_color_for_state`: active, inactive or disabled; selected or not), so our cells line
up with and look like the plain ones. They read ``index.data(role)`` only and never call services.

Stale rows (``PaymentRoles.STALE``) keep their shapes but paint them at ``STALE_OPACITY``; their text
takes the model's italic font and muted colour through ``initStyleOption``, like every other cell.

Every cell of the table, plain ones too (``CellDelegate``), is painted through the table's
``PaintedCells``: a repaint of a cell whose inputs have not changed copies its kept pixels.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, TypeVar

from PySide6.QtCore import QObject, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPalette, QPen, QPixmap
from PySide6.QtWidgets import QApplication, QStyle, QStyledItemDelegate, QStyleOptionViewItem

from epay_desktop.domain import BusinessState, State
from epay_desktop.domain.breakdown import AmountBreakdown
from epay_desktop.ui.table.cells import AnyIndex, RowLooks, bar_shares
from epay_desktop.ui.table.model import SUMMARY_SEPARATOR, PaymentRoles
from epay_desktop.ui.table.painted import PaintedCells

T = TypeVar("T")

# Mid-tone colours that read on light and dark backgrounds; text on them is picked by luminance.
STATE_COLORS: dict[State, QColor] = {
    State.CREATED: QColor("#1565c0"),
    State.AUTHORIZED: QColor("#2e7d32"),
    State.ABORTED: QColor("#757575"),
    State.EXPIRED: QColor("#a15c00"),
    State.TERMINATED: QColor("#455a64"),
    State.UNKNOWN: QColor("#ad1457"),
}

PART_COLORS: dict[str, QColor] = {
    "captured": QColor("#2e7d32"),
    "refunded": QColor("#8e24aa"),
    "cancelled": QColor("#9e9e9e"),
    "reserved": QColor("#1e88e5"),
    "awaiting": QColor("#90caf9"),
}


STALE_OPACITY = 0.45
_BADGE_MARGIN = 3  # px around a badge's pixmap: room for the busy outline (2 px out) and its pen
_BADGES_KEPT = 256

# Qt's enum members read once: each look-up of one costs an attribute access per paint.
_ENABLED = QStyle.StateFlag.State_Enabled
_ACTIVE = QStyle.StateFlag.State_Active
_SELECTED = QStyle.StateFlag.State_Selected
_DISABLED_GROUP = QPalette.ColorGroup.Disabled
_ACTIVE_GROUP = QPalette.ColorGroup.Active
_INACTIVE_GROUP = QPalette.ColorGroup.Inactive
_TEXT = QPalette.ColorRole.Text
_HIGHLIGHTED_TEXT = QPalette.ColorRole.HighlightedText
_ITEM_VIEW_ITEM = QStyle.ControlElement.CE_ItemViewItem
_ITEM_TEXT = QStyle.SubElement.SE_ItemViewItemText
_FOCUS_MARGIN = QStyle.PixelMetric.PM_FocusFrameHMargin
_ELIDE_RIGHT = Qt.TextElideMode.ElideRight
_LEFT_CENTRED = int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft)
_KIND_COLORS = {kind.value: QColor(kind.colour) for kind in BusinessState}
_DISPLAY_ROLE = int(Qt.ItemDataRole.DisplayRole)
_LOOKS_ROLE = int(PaymentRoles.LOOKS)


def badge_colour(kind: str, state: str) -> QColor:
    """The badge's colour: the business state's (``kind``, a value), else the API state's."""
    colour = _KIND_COLORS.get(kind)
    return colour if colour is not None else STATE_COLORS[State.parse(state)]


def text_color_on(background: QColor) -> QColor:
    # Relative luminance (sRGB weights); dark text on light badges, white on dark ones.
    lum = 0.2126 * background.redF() + 0.7152 * background.greenF() + 0.0722 * background.blueF()
    return QColor("#000000") if lum > 0.55 else QColor("#ffffff")


def fit_bar_label(text: str, metrics: QFontMetrics, width: int) -> str:
    """The bar's label as it fits in ``width``: all of it; else only its first (largest) part and an
    ellipsis ("60 % cancelled…", never "60 % cancelled, 40 …"); else that part cut short. The tooltip
    carries every figure."""
    if metrics.horizontalAdvance(text) <= width:
        return text
    largest = text.split(SUMMARY_SEPARATOR, 1)[0]
    if largest != text and metrics.horizontalAdvance(largest + "…") <= width:
        return largest + "…"
    # Not even that fits: the whole label elided is then a prefix of the largest part (with "…").
    return metrics.elidedText(text, Qt.TextElideMode.ElideRight, width)


def bar_segments(rect: QRectF, parts: AmountBreakdown) -> list[tuple[str, QRectF]]:
    """Rectangles of the non-empty parts, left to right, proportional to the amount (scaled down to
    fit when the parts add up to more than the amount)."""
    return shares_in(rect, bar_shares(parts))


def shares_in(rect: QRectF, shares: tuple[tuple[str, float, float], ...]) -> list[tuple[str, QRectF]]:
    """``shares`` (``bar_shares``: fractions of the bar) as rectangles in ``rect``."""
    full = rect.width()
    if full <= 0:
        return []
    left, top, height = rect.left(), rect.top(), rect.height()
    return [(name, QRectF(left + full * start, top, full * width, height)) for name, start, width in shares]


def text_color_for_state(palette: QPalette, state: QStyle.StateFlag) -> QColor:
    """The palette's text colour for an item in ``state`` (as orange-widget-base's): the colour group
    follows whether the view is active and enabled, the role whether the item is selected. A row's
    muted colour (the model's ForegroundRole) is the palette's Text by then, through initStyleOption."""
    if not state & _ENABLED:
        group = _DISABLED_GROUP
    elif state & _ACTIVE:
        group = _ACTIVE_GROUP
    else:
        group = _INACTIVE_GROUP
    return palette.color(group, _HIGHLIGHTED_TEXT if state & _SELECTED else _TEXT)


def draw_item_without_text(
    delegate: QStyledItemDelegate, painter: QPainter, option: QStyleOptionViewItem, index: AnyIndex
) -> tuple[QStyleOptionViewItem, str, QRect]:
    """The first steps of the delegate recipe (ENGINEERING.md §6.3): copy the option, initStyleOption,
    draw the item (background, selection, focus) with the widget's style but without its text, which
    the caller paints over its own drawing. Returns the option, the text it took out and where the
    style puts an item's text (``SE_ItemViewItemText``)."""
    opt = QStyleOptionViewItem(option)
    delegate.initStyleOption(opt, index)
    widget = opt.widget
    if widget is not None:
        # The row's font (the model's italic, say) holds the view's size and family, but marked as
        # unset: a painter fills unset attributes from its device's font, which for a pixmap (a badge,
        # a kept cell) is the application's, not the view's. Marked as set, it paints the same anywhere.
        settled = QFont(opt.font)
        settled.setResolveMask(settled.resolveMask() | widget.font().resolveMask())
        opt.font = settled
    text = opt.text
    opt.text = ""
    style = widget.style() if widget is not None else QApplication.style()
    style.drawControl(_ITEM_VIEW_ITEM, opt, painter, widget)
    area = style.subElementRect(_ITEM_TEXT, opt, widget)
    # The style indents an item's text by its focus frame's margin and one pixel (as Qt's own
    # QCommonStyle does when it draws the text of a plain cell).
    margin = style.pixelMetric(_FOCUS_MARGIN, None, widget) + 1
    return opt, text, area.adjusted(margin, 0, -margin, 0)


def draw_text(painter: QPainter, opt: QStyleOptionViewItem, rect: QRect | QRectF, text: str) -> None:
    """``text`` in ``rect``, left and vertically centred, in the row's font and state colour."""
    painter.save()
    painter.setFont(opt.font)  # the row's (italic when stale)
    painter.setPen(text_color_for_state(opt.palette, opt.state))
    painter.drawText(rect, _LEFT_CENTRED, text)
    painter.restore()


class _Measures:
    """Text widths, elided texts and fitted bar labels, kept by font (its ``key()``) and width: a table
    shows a handful of distinct state words and bar labels, and measuring one shapes its text."""

    LIMIT = 2_048

    def __init__(self) -> None:
        self._kept: dict[tuple[object, ...], Any] = {}

    def _kept_or(self, key: tuple[object, ...], measure: Callable[[], T]) -> T:
        value: T | None = self._kept.get(key)
        if value is None:
            if len(self._kept) >= self.LIMIT:
                self._kept.clear()
            value = self._kept[key] = measure()
        return value

    def advance(self, metrics: QFontMetrics, font: str, text: str) -> int:
        return self._kept_or(("advance", font, text), lambda: metrics.horizontalAdvance(text))

    def elided(self, metrics: QFontMetrics, font: str, text: str, width: int) -> str:
        return self._kept_or(
            ("elided", font, text, width), lambda: metrics.elidedText(text, _ELIDE_RIGHT, width)
        )

    def bar_label(self, font: QFont, key_of_font: str, text: str, width: int) -> str:
        return self._kept_or(
            ("bar", key_of_font, text, width), lambda: fit_bar_label(text, QFontMetrics(font), width)
        )


_MEASURES = _Measures()


def badge_pixmap(
    font: QFont,
    text: str,
    colour: QColor,
    width: int,
    height: int,
    offset: float,
    outline: QColor | None,
    ratio: float,
) -> QPixmap:
    """A badge of ``width`` × ``height`` with ``text`` centred on it (and a dashed ``outline`` around
    it when given), ``_BADGE_MARGIN`` px in from the pixmap's edges and ``offset`` px lower (the
    fraction of a pixel at which it sits in its cell)."""
    pixmap = QPixmap(
        math.ceil((width + 2 * _BADGE_MARGIN) * ratio), math.ceil((height + 2 * _BADGE_MARGIN + 1) * ratio)
    )
    pixmap.setDevicePixelRatio(ratio)
    pixmap.fill(Qt.GlobalColor.transparent)
    badge = QRectF(_BADGE_MARGIN, _BADGE_MARGIN + offset, width, height)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(colour)
    painter.drawRoundedRect(badge, height / 2, height / 2)
    if outline is not None:
        painter.setPen(QPen(outline, 1, Qt.PenStyle.DashLine))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(badge.adjusted(-2, -2, 2, 2), height / 2 + 2, height / 2 + 2)
    painter.setPen(text_color_on(colour))
    painter.setFont(font)
    painter.drawText(badge, int(Qt.AlignmentFlag.AlignCenter), text)
    painter.end()
    return pixmap


class CellDelegate(QStyledItemDelegate):
    """A cell painted through the table's :class:`PaintedCells` when it has them (a copy of the cell's
    kept pixels when nothing it shows has changed), else directly; ``paint_cell`` is the paint itself
    (here Qt's own, for the plain text cells)."""

    def __init__(self, parent: QObject | None = None, cells: PaintedCells | None = None) -> None:
        super().__init__(parent)
        self.cells = cells

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: AnyIndex) -> None:
        cells = self.cells
        if cells is None:
            self.paint_cell(painter, option, index)
        else:
            cells.paint(painter, option, index, self.paint_cell, self.content(index))

    def paint_cell(self, painter: QPainter, option: QStyleOptionViewItem, index: AnyIndex) -> None:
        super().paint(painter, option, index)

    def content(self, index: AnyIndex) -> object:
        """All of its row that this cell's paint depends on, when that is less than the row (cells of
        equal content then share one painting); None: the row's own."""
        return None


class _ByTextAndLooks(CellDelegate):
    """A cell painted from its text and its row's looks only (the roles ``initStyleOption`` reads
    besides the text, its font and colour, follow the looks' stale mark)."""

    def content(self, index: AnyIndex) -> object:
        # The payments table's proxy answers in one Python call; any other model through its roles.
        model = index.model()
        read = getattr(model, "text_and_looks_at", None)
        if read is not None:
            return read(index.row(), index.column())
        return (index.data(_DISPLAY_ROLE), index.data(_LOOKS_ROLE))


class StateBadgeDelegate(_ByTextAndLooks):
    """The state as a coloured rounded badge; busy rows get a dashed outline."""

    def __init__(self, parent: QObject | None = None, cells: PaintedCells | None = None) -> None:
        super().__init__(parent, cells)
        self._badges: dict[tuple[object, ...], QPixmap] = {}

    def paint_cell(self, painter: QPainter, option: QStyleOptionViewItem, index: AnyIndex) -> None:
        opt, text, area = draw_item_without_text(self, painter, option, index)
        looks = index.data(PaymentRoles.LOOKS)
        if not isinstance(looks, RowLooks) or not looks.state:
            # Not fetched yet: plain text, muted as the stale row it is (no colour claims a state we
            # do not know).
            draw_text(
                painter,
                opt,
                area,
                opt.fontMetrics.elidedText(text, Qt.TextElideMode.ElideRight, area.width()),
            )
            return
        # The business state's own colour, with its word on it (never a colour alone).
        colour = badge_colour(looks.kind, looks.state)
        metrics = opt.fontMetrics
        # The font's key and its height on this device (a screen of another resolution measures anew).
        font = f"{opt.font.key()}/{metrics.height()}"
        height = min(opt.rect.height() - 6, metrics.height() + 6)
        width = min(area.width(), _MEASURES.advance(metrics, font, text) + 16)
        top = opt.rect.center().y() - height / 2 + 0.5
        if width <= 0 or height <= 0:
            return
        outline = opt.palette.color(_TEXT) if looks.busy else None
        # The painter's own scale to device pixels: a render() into a device of another pixel ratio
        # than the widget's gets a badge drawn at that ratio (never a blurred copy of a smaller one).
        ratio = painter.deviceTransform().m11() or painter.device().devicePixelRatioF()
        # Drawn once per look (colour, word, size, outline) and copied: rounded, antialiased shapes
        # and shaped text cost far more than a copy, and a table shows a handful of distinct badges.
        key = (text, colour.rgba(), width, height, top % 1, outline.rgba() if outline else None, font, ratio)
        pixmap = self._badges.get(key)
        if pixmap is None:
            if len(self._badges) >= _BADGES_KEPT:
                self._badges.clear()
            elided = _MEASURES.elided(metrics, font, text, width - 12)
            pixmap = self._badges[key] = badge_pixmap(
                opt.font, elided, colour, width, height, top % 1, outline, ratio
            )
        if looks.stale:
            painter.save()
            painter.setOpacity(STALE_OPACITY)
            painter.drawPixmap(area.left() - _BADGE_MARGIN, math.floor(top) - _BADGE_MARGIN, pixmap)
            painter.restore()
        else:
            painter.drawPixmap(area.left() - _BADGE_MARGIN, math.floor(top) - _BADGE_MARGIN, pixmap)

    def sizeHint(self, option: QStyleOptionViewItem, index: AnyIndex) -> QSize:
        size = super().sizeHint(option, index)
        return QSize(size.width() + 20, max(size.height(), option.fontMetrics.height() + 10))


class AggregateBarDelegate(_ByTextAndLooks):
    """Captured, refunded, cancelled, reserved (and awaiting approval) as proportional bars under a
    short summary; the exact figures are in the tooltip (the model's ToolTipRole)."""

    bar_height = 8

    def paint_cell(self, painter: QPainter, option: QStyleOptionViewItem, index: AnyIndex) -> None:
        opt, text, area = draw_item_without_text(self, painter, option, index)
        looks = index.data(PaymentRoles.LOOKS)
        # The bar lies under the text, as wide as the style's text area, 3 px above the cell's bottom.
        rect = QRect(area.left(), opt.rect.top() + 3, area.width(), max(opt.rect.height() - 6, 0))
        bar_h = min(self.bar_height, max(rect.height() // 3, 2))
        bar = QRectF(rect.left(), rect.bottom() - bar_h + 1, rect.width(), bar_h)
        if isinstance(looks, RowLooks) and looks.parts is not None:
            painter.save()
            if looks.stale:
                painter.setOpacity(STALE_OPACITY)
            painter.setPen(Qt.PenStyle.NoPen)
            track = QColor(opt.palette.color(QPalette.ColorRole.Mid))
            track.setAlpha(90)
            painter.setBrush(track)
            painter.drawRect(bar)
            for name, segment in shares_in(bar, looks.shares):
                painter.setBrush(PART_COLORS[name])
                painter.drawRect(segment)
            painter.restore()
        text_rect = QRect(rect.left(), rect.top(), rect.width(), max(rect.height() - bar_h - 1, 0))
        font = f"{opt.font.key()}/{opt.fontMetrics.height()}"
        label = _MEASURES.bar_label(opt.font, font, text, text_rect.width())
        draw_text(painter, opt, text_rect, label)

    def sizeHint(self, option: QStyleOptionViewItem, index: AnyIndex) -> QSize:
        size = super().sizeHint(option, index)
        return QSize(max(size.width(), 160), max(size.height(), option.fontMetrics.height() + 14))
