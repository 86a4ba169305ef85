"""The state badge and the aggregate bar, painted into a QImage and checked pixel by pixel."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from PySide6.QtCore import QLocale, QPoint, QRect, QRectF
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QPainter, QPalette
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QTableView

from epay_desktop.domain import BusinessState, Currency, Money, State
from epay_desktop.domain.breakdown import AmountBreakdown, breakdown
from epay_desktop.ui.table.delegates import (
    PART_COLORS,
    STALE_OPACITY,
    STATE_COLORS,
    AggregateBarDelegate,
    StateBadgeDelegate,
    bar_segments,
    fit_bar_label,
    text_color_for_state,
    text_color_on,
)
from epay_desktop.ui.table.model import Column, PaymentsModel, state_text
from tests.ui.factories import T0, payment, tracked

W, H = 200, 36


def text_margin() -> int:
    """How far the style indents an item's text (Qt's QCommonStyle: the focus frame's margin + 1)."""
    return QTableView().style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin) + 1


FRESH = T0 + timedelta(minutes=3)  # the factories' rows were fetched at T0 + 2 min: not stale yet
LATER = T0 + timedelta(hours=3)  # stale


def paint(
    delegate_cls: type,
    tp: Any,
    column: int,
    palette: QPalette | None = None,
    now: datetime = FRESH,
    width: int = W,
) -> QImage:
    view = QTableView()
    if palette is not None:
        view.setPalette(palette)
    model = PaymentsModel(view, locale=QLocale.c())
    model.set_payments([tp])
    model.set_now(now)
    view.setModel(model)
    delegate = delegate_cls(view)
    image = QImage(width, H, QImage.Format.Format_ARGB32)
    image.fill(view.palette().color(QPalette.ColorRole.Base))
    option = QStyleOptionViewItem()
    option.initFrom(view)
    option.rect = QRect(0, 0, width, H)
    option.widget = view
    painter = QPainter(image)
    delegate.paint(painter, option, model.index(0, column))
    painter.end()
    view.deleteLater()
    return image


def close(a: QColor, b: QColor, tolerance: int = 12) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a.getRgb()[:3], b.getRgb()[:3], strict=True))


def bar_row(image: QImage) -> int:
    # The bar sits at the bottom of the cell: 3 px margin, 8 px high.
    return H - 3 - 4


def test_bar_splits_captured_refunded_cancelled_and_reserved_in_proportion(qapp: Any) -> None:
    tp = tracked(amount=10_000, captured=4_000, refunded=1_000, cancelled=2_000)
    image = paint(AggregateBarDelegate, tp, Column.AGGREGATE)
    y = bar_row(image)
    # As wide as the text: captured kept 30 %, refunded 10 %, cancelled 20 %, reserved 40 %.
    left = text_margin()
    inner = W - 2 * left
    expectations = [
        (left + inner * 0.15, "captured"),
        (left + inner * 0.35, "refunded"),
        (left + inner * 0.5, "cancelled"),
        (left + inner * 0.8, "reserved"),
    ]
    for x, part in expectations:
        assert close(image.pixelColor(int(x), y), PART_COLORS[part]), (part, image.pixelColor(int(x), y))


def test_bar_of_zero_amount_draws_no_parts(qapp: Any) -> None:
    tp = tracked(amount=0, state=State.AUTHORIZED, authorized=0)
    image = paint(AggregateBarDelegate, tp, Column.AGGREGATE)
    y = bar_row(image)
    colours = {image.pixelColor(x, y).rgb() for x in range(8, W - 8)}
    assert not any(close(QColor(c), PART_COLORS[p], 4) for c in colours for p in PART_COLORS)


def test_bar_over_one_hundred_percent_is_scaled_to_fit(qapp: Any) -> None:
    # The API reports more captured + cancelled than the amount: scaled, never painted past the cell.
    tp = tracked(amount=1_000, authorized=1_000, captured=1_000, cancelled=1_000)
    image = paint(AggregateBarDelegate, tp, Column.AGGREGATE)
    y = bar_row(image)
    left = text_margin()
    inner = W - 2 * left
    assert close(image.pixelColor(left + inner // 4, y), PART_COLORS["captured"])
    assert close(image.pixelColor(left + inner * 3 // 4, y), PART_COLORS["cancelled"])
    assert not close(image.pixelColor(W - 2, y), PART_COLORS["cancelled"])


def test_bar_for_a_payment_not_fetched_yet_draws_nothing_of_ours(qapp: Any) -> None:
    image = paint(AggregateBarDelegate, tracked(fetched=False), Column.AGGREGATE)
    colours = {image.pixelColor(x, y).rgb() for x in range(W) for y in range(H)}
    assert not any(close(QColor(c), PART_COLORS[p], 4) for c in colours for p in PART_COLORS)


def test_created_payment_shows_the_awaiting_part(qapp: Any) -> None:
    image = paint(AggregateBarDelegate, tracked(amount=500, state=State.CREATED), Column.AGGREGATE)
    assert close(image.pixelColor(W // 2, bar_row(image)), PART_COLORS["awaiting"])


@pytest.mark.parametrize(
    ("kwargs", "kind"),
    [
        ({"state": State.CREATED}, BusinessState.WAITING),
        ({"state": State.AUTHORIZED}, BusinessState.RESERVED),
        ({"state": State.AUTHORIZED, "captured": 40}, BusinessState.PARTLY_CAPTURED),
        ({"state": State.AUTHORIZED, "captured": 40, "cancelled": 60}, BusinessState.CANCELLED),
        ({"state": State.AUTHORIZED, "captured": 100, "refunded": 100}, BusinessState.REFUNDED),
        ({"state": State.TERMINATED}, BusinessState.TERMINATED),
        ({"state": State.EXPIRED}, BusinessState.EXPIRED),
    ],
)
def test_state_badge_has_the_business_state_colour_and_word(
    qapp: Any, kwargs: dict[str, Any], kind: BusinessState
) -> None:
    tp = tracked(amount=100, **kwargs)
    image = paint(StateBadgeDelegate, tp, Column.STATE)
    # Left edge of the badge (x=4) plus its rounded corner: sample a little inside, at mid height.
    assert close(image.pixelColor(QPoint(9, H // 2 - 5)), QColor(kind.colour))
    assert state_text(tp) == kind.label  # the word, never the colour alone


def test_unknown_state_gets_the_unknown_colour(qapp: Any) -> None:
    tp = tracked(state=State.UNKNOWN, raw_state="PAUSED", amount=100)
    image = paint(StateBadgeDelegate, tp, Column.STATE)
    assert close(image.pixelColor(QPoint(9, H // 2 - 5)), QColor(BusinessState.UNKNOWN.colour))


def test_missing_payment_has_no_badge(qapp: Any) -> None:
    image = paint(StateBadgeDelegate, tracked(fetched=False), Column.STATE)
    colours = {image.pixelColor(x, y).rgb() for x in range(W) for y in range(H)}
    assert not any(close(QColor(c), colour, 4) for c in colours for colour in STATE_COLORS.values())


def test_badge_in_a_dark_palette_keeps_its_colour(qapp: Any) -> None:
    dark = QPalette()
    dark.setColor(QPalette.ColorRole.Base, QColor("#1e1e1e"))
    dark.setColor(QPalette.ColorRole.Text, QColor("#eeeeee"))
    image = paint(StateBadgeDelegate, tracked(amount=100), Column.STATE, dark)
    assert close(image.pixelColor(QPoint(9, H // 2 - 5)), QColor(BusinessState.RESERVED.colour))
    assert close(image.pixelColor(W - 2, 2), QColor("#1e1e1e"))


def test_segments_are_proportional_and_sum_to_the_width() -> None:
    parts = breakdown(payment(amount=1_000, captured=250, cancelled=250))
    segments = bar_segments(QRectF(0, 0, 100, 8), parts)
    assert [(n, round(r.width())) for n, r in segments] == [
        ("captured", 25),
        ("cancelled", 25),
        ("reserved", 50),
    ]
    zero = Money.zero(Currency.NOK)
    assert bar_segments(QRectF(0, 0, 100, 8), AmountBreakdown(zero, zero, zero, zero, zero, zero)) == []


def test_badge_text_colour_contrasts() -> None:
    assert text_color_on(QColor("#ffffff")) == QColor("#000000")
    assert text_color_on(QColor(BusinessState.RESERVED.colour)) == QColor("#ffffff")


def blended(colour: QColor, background: QColor, opacity: float) -> QColor:
    mix = lambda a, b: round(a * opacity + b * (1 - opacity))  # noqa: E731
    return QColor(
        mix(colour.red(), background.red()),
        mix(colour.green(), background.green()),
        mix(colour.blue(), background.blue()),
    )


def test_stale_badge_is_painted_faded(qapp: Any) -> None:
    tp = tracked(amount=100)
    base = QTableView().palette().color(QPalette.ColorRole.Base)
    fresh = paint(StateBadgeDelegate, tp, Column.STATE).pixelColor(QPoint(9, H // 2 - 5))
    stale = paint(StateBadgeDelegate, tp, Column.STATE, now=LATER).pixelColor(QPoint(9, H // 2 - 5))
    assert close(fresh, QColor(BusinessState.RESERVED.colour))
    assert not close(stale, QColor(BusinessState.RESERVED.colour))
    assert close(stale, blended(QColor(BusinessState.RESERVED.colour), base, STALE_OPACITY))


def test_stale_bar_is_painted_faded(qapp: Any) -> None:
    tp = tracked(amount=10_000, captured=10_000)
    base = QTableView().palette().color(QPalette.ColorRole.Base)
    image = paint(AggregateBarDelegate, tp, Column.AGGREGATE, now=LATER)
    colour = image.pixelColor(W // 2, bar_row(image))
    assert close(colour, blended(PART_COLORS["captured"], base, STALE_OPACITY))


def test_a_closed_payment_keeps_its_colours_however_old(qapp: Any) -> None:
    tp = tracked(amount=100, state=State.TERMINATED)
    image = paint(StateBadgeDelegate, tp, Column.STATE, now=LATER)
    assert close(image.pixelColor(QPoint(9, H // 2 - 5)), QColor(BusinessState.TERMINATED.colour))


def test_a_bar_label_that_does_not_fit_keeps_only_its_largest_part(qapp: Any) -> None:
    metrics = QFontMetrics(QFont())
    label = "60\u2009% cancelled, 40\u2009% reserved"
    largest = "60\u2009% cancelled…"
    full = metrics.horizontalAdvance(label)
    assert fit_bar_label(label, metrics, full) == label
    # Room for more than the largest part but not for all: never "60 % cancelled, 40 …".
    assert fit_bar_label(label, metrics, full - 1) == largest
    assert fit_bar_label(label, metrics, metrics.horizontalAdvance(largest)) == largest
    # Not even the largest part fits: it is cut short, and the second part never shows.
    short = fit_bar_label(label, metrics, metrics.horizontalAdvance(largest) - 8)
    assert short.endswith("…")
    assert "reserved" not in short
    assert label.startswith(short[:2])
    # One part only: ordinary eliding.
    one = "100\u2009% captured"
    assert fit_bar_label(one, metrics, metrics.horizontalAdvance(one) - 4).endswith("…")
    assert fit_bar_label(one, metrics, metrics.horizontalAdvance(one)) == one


def test_a_narrow_bar_cell_paints_the_largest_part_only(qapp: Any) -> None:
    # 60 % cancelled, 40 % reserved in a cell with room for "60 % cancelled…" and a little more: the
    # text must end where that ends, not run on to the cell's edge as "60 % cancelled, 4…" would.
    tp = tracked(amount=10_000, cancelled=6_000)
    metrics = QFontMetrics(QTableView().font())
    label = "60\u2009% cancelled, 40\u2009% reserved"
    largest = metrics.horizontalAdvance("60\u2009% cancelled…")
    margin = text_margin()
    width = largest + 2 * margin + (metrics.horizontalAdvance(label) - largest) // 2
    image = paint(AggregateBarDelegate, tp, Column.AGGREGATE, width=width)
    base = image.pixelColor(width - 1, 1)
    text_rows = range(3, H - 3 - 8 - 1)
    inked = [x for x in range(width) if any(image.pixelColor(x, y) != base for y in text_rows)]
    assert inked
    assert max(inked) <= margin + largest + 1
    assert max(inked) > margin + largest - 12  # the ellipsis is there


def inked_columns(image: QImage, rows: range) -> list[int]:
    base = image.pixelColor(image.width() - 1, 0)
    return [x for x in range(image.width()) if any(image.pixelColor(x, y) != base for y in rows)]


def test_our_text_starts_where_a_plain_cells_text_does(qapp: Any) -> None:
    # The description column is drawn by Qt's own delegate; the bar's label and the unfetched state's
    # text take the style's text rectangle, so all columns' text lines up.
    tp = tracked(amount=10_000, captured=10_000, description="Mugs")
    plain = paint(QStyledItemDelegate, tp, Column.DESCRIPTION)
    bar = paint(AggregateBarDelegate, tp, Column.AGGREGATE)
    text_rows = range(3, H - 3 - 8 - 1)
    assert min(inked_columns(bar, text_rows)) == min(inked_columns(plain, range(H)))
    # Not fetched yet: the state cell's text (italic, muted) where Qt's own delegate would put it.
    ours = paint(StateBadgeDelegate, tracked(fetched=False), Column.STATE)
    qts = paint(QStyledItemDelegate, tracked(fetched=False), Column.STATE)
    assert inked_columns(ours, range(H)) == inked_columns(qts, range(H))


def test_text_colour_follows_the_items_state(qapp: Any) -> None:
    palette = QPalette()
    palette.setColor(QPalette.ColorGroup.Active, QPalette.ColorRole.Text, QColor("#101010"))
    palette.setColor(QPalette.ColorGroup.Inactive, QPalette.ColorRole.Text, QColor("#202020"))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, QColor("#303030"))
    palette.setColor(QPalette.ColorGroup.Active, QPalette.ColorRole.HighlightedText, QColor("#fefefe"))
    enabled, active = QStyle.StateFlag.State_Enabled, QStyle.StateFlag.State_Active
    selected = QStyle.StateFlag.State_Selected
    assert text_color_for_state(palette, enabled | active).name() == "#101010"
    assert text_color_for_state(palette, enabled).name() == "#202020"
    assert text_color_for_state(palette, active).name() == "#303030"
    assert text_color_for_state(palette, enabled | active | selected).name() == "#fefefe"
