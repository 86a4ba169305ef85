"""The cancel dialog, the details panel and the error presenter, as widgets (no desk needed)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from PySide6.QtCore import QLocale, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDialog

from epay_desktop.api import ApiError, NetworkError, OutcomeUnknownError
from epay_desktop.domain import Action, Currency, EventName, Money, PaymentEvent, State, cancel_outcome
from epay_desktop.ui.aio import wait_finished
from epay_desktop.ui.dialogs.cancel import CANNOT_BE_UNDONE, CancelDialog
from epay_desktop.ui.dialogs.demo_payment import NewDemoPaymentDialog
from epay_desktop.ui.dialogs.money_move import MoneyMoveDialog
from epay_desktop.ui.errors import describe_error
from epay_desktop.ui.formatting import AmountError, format_money, parse_money
from epay_desktop.ui.window.details_panel import EVENT_COLUMNS, DetailsPanel
from tests.ui.factories import T0, tracked

C = QLocale.c()


def dialog_for(production: bool = False, **kwargs: Any) -> CancelDialog:
    tp = tracked("order-ab12", "Espresso machine", amount=250_000, **kwargs)
    assert tp.payment is not None
    outcome = cancel_outcome(tp.payment)
    assert outcome is not None
    return CancelDialog(tp, outcome, production=production, locale=C)


def test_dialog_says_what_is_released_and_that_it_cannot_be_undone(qtbot: Any) -> None:
    dialog = dialog_for(captured=100_000)
    qtbot.addWidget(dialog)
    assert dialog.reference_label.text() == "order-ab12"
    assert dialog.description_label.text() == "Espresso machine"
    assert dialog.amount_label.text() == "1500.00\u00a0NOK"
    assert "already captured is not touched" in dialog.outcome_label.text()
    assert "1,000.00\u00a0NOK already captured is not touched" in dialog.outcome_label.text()
    assert CANNOT_BE_UNDONE in dialog.warning_label.text()
    assert dialog.keep_button.isDefault()
    assert not dialog.cancel_button.isDefault()
    assert dialog.cancel_button.text() == "Cancel payment"


def test_created_payment_becomes_terminated(qtbot: Any) -> None:
    dialog = dialog_for(state=State.CREATED)
    qtbot.addWidget(dialog)
    assert "The payment is closed (TERMINATED)" in dialog.outcome_label.text()
    assert dialog.amount_label.text() == "2500.00\u00a0NOK"


@pytest.mark.parametrize("key", [Qt.Key.Key_Escape, Qt.Key.Key_Return])
def test_escape_and_enter_keep_the_payment(
    qtbot: Any, ui_loop: asyncio.AbstractEventLoop, key: Qt.Key
) -> None:
    dialog = dialog_for()
    qtbot.addWidget(dialog)

    async def scenario() -> int:
        waiting = asyncio.ensure_future(wait_finished(dialog))
        await asyncio.sleep(0.01)
        assert dialog.isVisible()
        qtbot.keyClick(dialog.focusWidget() or dialog, key)
        return await asyncio.wait_for(waiting, 5)

    assert ui_loop.run_until_complete(scenario()) == QDialog.DialogCode.Rejected


def test_destructive_button_accepts(qtbot: Any, ui_loop: asyncio.AbstractEventLoop) -> None:
    dialog = dialog_for()
    qtbot.addWidget(dialog)

    async def scenario() -> int:
        waiting = asyncio.ensure_future(wait_finished(dialog))
        await asyncio.sleep(0.01)
        qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
        return await asyncio.wait_for(waiting, 5)

    assert ui_loop.run_until_complete(scenario()) == QDialog.DialogCode.Accepted


def test_production_asks_for_the_last_four_characters(qtbot: Any) -> None:
    dialog = dialog_for(production=True)
    qtbot.addWidget(dialog)
    assert dialog.confirm_input is not None
    assert not dialog.cancel_button.isEnabled()
    qtbot.keyClicks(dialog.confirm_input, "ab1")
    assert not dialog.cancel_button.isEnabled()
    dialog.confirm_input.clear()
    qtbot.keyClicks(dialog.confirm_input, "AB12")  # case matters: references are case-sensitive
    assert not dialog.cancel_button.isEnabled()
    dialog.confirm_input.clear()
    qtbot.keyClicks(dialog.confirm_input, "ab12")
    assert dialog.cancel_button.isEnabled()
    assert dialog.keep_button.isDefault()


def test_a_capture_in_production_needs_the_last_four_characters_and_an_amount(qtbot: Any) -> None:
    dialog = MoneyMoveDialog(
        tracked("order-cd34", "Grinder", amount=50_000), Action.CAPTURE, production=True, locale=C
    )
    qtbot.addWidget(dialog)
    assert dialog.confirm_input is not None
    assert not dialog.move_button.isEnabled()
    qtbot.keyClicks(dialog.confirm_input, "cd34")
    assert dialog.move_button.isEnabled()
    assert dialog.keep_button.isDefault()
    dialog.amount_field.edit.clear()  # no amount: nothing to capture yet
    assert not dialog.move_button.isEnabled()
    dialog.amount_field.edit.setText("100.00")
    assert dialog.move_button.isEnabled()
    dialog.confirm_input.clear()
    assert not dialog.move_button.isEnabled()
    assert dialog.keep_button.isDefault()


def test_details_panel_shows_exact_figures_actions_and_events(qtbot: Any) -> None:
    panel = DetailsPanel(locale=C)
    qtbot.addWidget(panel)
    tp = tracked("order-000010", "Beans", amount=10_000, captured=4_000, refunded=1_000)
    panel.show_payment(tp)
    assert panel.figures["captured"].text() == "40.00\u00a0NOK"
    assert panel.figures["refunded"].text() == "10.00\u00a0NOK"
    assert panel.figures["reserved"].text() == "60.00\u00a0NOK"
    assert panel.action_labels[Action.CANCEL].text() == "Yes: releases 60.00\u00a0NOK"
    assert panel.action_labels[Action.REFUND].text() == "Yes: up to 30.00\u00a0NOK"
    assert panel.events.topLevelItemCount() == 2
    assert panel.events.topLevelItem(1).text(0) == "AUTHORIZED"
    panel.copy_button.click()
    assert QGuiApplication.clipboard().text() == "psp-order-000010"


def test_details_panel_says_why_an_action_is_impossible(qtbot: Any) -> None:
    panel = DetailsPanel(locale=C)
    qtbot.addWidget(panel)
    panel.show_payment(tracked(amount=10_000, captured=10_000))
    assert panel.action_labels[Action.CANCEL].text() == "No. Fully captured: refund instead."
    panel.show_payment(tracked(amount=10_000, state=State.TERMINATED))
    assert "terminated" in panel.action_labels[Action.CAPTURE].text()


def test_details_panel_lists_failed_and_unknown_events(qtbot: Any) -> None:
    panel = DetailsPanel(locale=C)
    qtbot.addWidget(panel)
    tp = tracked(amount=10_000)
    event = PaymentEvent(
        tp.reference, "psp", EventName.UNKNOWN, Money(5, Currency.NOK), T0, "key-1", False, raw_name="PAUSED"
    )
    panel.show_payment(tp.__class__(**{**{f: getattr(tp, f) for f in tp.__slots__}, "events": (event,)}))
    item = panel.events.topLevelItem(0)
    assert [item.text(c) for c in (0, 1, 3, 4)] == ["PAUSED", "0.05\u00a0NOK", "No", "key-1"]


def test_the_event_timeline_fits_its_width_and_elides_the_key(qtbot: Any) -> None:
    """At 1480x820 the side panel is ~440 px wide: the timeline must not scroll sideways. The short
    columns fit their contents; the idempotency key takes the rest, elided, in full in its tooltip."""
    from tests.ui.factories import payment

    panel = DetailsPanel(locale=C)
    qtbot.addWidget(panel)
    panel.resize(440, 600)
    panel.show()
    qtbot.waitExposed(panel)
    tp = tracked(amount=123_456_789, captured=1_000)
    key = "k" * 20 + "-" + "9" * 29  # 50 characters, the longest key the API takes
    p = payment(tp.reference, amount=123_456_789, captured=1_000)
    events = tuple(
        PaymentEvent(tp.reference, "psp", name, p.amount, T0, key, True)
        for name in (EventName.CREATED, EventName.AUTHORIZED, EventName.CAPTURED)
    )
    panel.show_payment(tp.__class__(**{**{f: getattr(tp, f) for f in tp.__slots__}, "events": events}))
    tree, header = panel.events, panel.events.header()
    # The view lays its items out when it next paints.
    qtbot.waitUntil(lambda: header.sectionSize(0) >= tree.sizeHintForColumn(0))
    assert not tree.horizontalScrollBar().isVisible()
    assert header.sectionViewportPosition(4) + header.sectionSize(4) <= tree.viewport().width()
    for column in range(4):  # sized to their contents: nothing cut
        assert header.sectionSize(column) >= tree.sizeHintForColumn(column), EVENT_COLUMNS[column]
    item = tree.topLevelItem(0)
    assert item.text(4) == key
    assert header.sectionSize(4) < tree.fontMetrics().horizontalAdvance(key)  # so it is elided
    assert tree.textElideMode() == Qt.TextElideMode.ElideMiddle
    assert key in item.toolTip(4)


def test_details_panel_without_payment(qtbot: Any) -> None:
    panel = DetailsPanel(locale=C)
    qtbot.addWidget(panel)
    panel.show_payment(tracked(fetched=False))
    assert panel.figures["amount"].text() == "Not fetched"
    assert not panel.copy_button.isEnabled()
    panel.show_payment(None)
    assert "Select a payment" in panel.title.text()


def test_api_error_report_has_title_detail_code_trace_and_advice() -> None:
    error = ApiError(
        400, "Bad Request", "The payment is already cancelled", error_code="3001", trace_id="t-42"
    )
    report = describe_error("cancel:order-1", error)
    assert report.title == "Cancel failed"
    assert "Bad Request" in report.message
    assert "already cancelled" in report.message
    assert "Error code: 3001" in report.details
    assert "traceId: t-42" in report.details
    assert report.advice == error.advice
    assert report.advice


def test_other_errors_have_words_too() -> None:
    assert "No answer" in describe_error("refresh", NetworkError("boom")).message
    unknown = OutcomeUnknownError(
        operation="cancel", reference="r-1", idempotency_key="k-1", last_error=None, attempts=3
    )
    report = describe_error("cancel:r-1", unknown)
    assert "outcome unknown" in report.title
    assert "Idempotency key: k-1" in report.details
    # It names the action that refreshes this one payment, with that action's own shortcut (F5 is all).
    assert "“Refresh this payment” (Shift+F5)" in report.advice
    assert "bug" in describe_error("x", RuntimeError("?")).advice


@pytest.mark.parametrize(
    ("text", "value"), [("149.50", 14950), ("1 234,5", 123450), ("7", 700), ("0.01", 1), ("12 NOK", 1200)]
)
def test_parse_money_is_exact(text: str, value: int) -> None:
    assert parse_money(text, Currency.NOK, C) == Money(value, Currency.NOK)


@pytest.mark.parametrize("text", ["", "-5", "1.234", "abc", "1e3", "0", "1,2,3"])
def test_parse_money_refuses_with_a_sentence(text: str) -> None:
    with pytest.raises(AmountError):
        parse_money(text, Currency.NOK, C)


@pytest.mark.parametrize("name", ["nb_NO", "da_DK", "fi_FI", "de_DE", "de_CH", "fr_FR", "en_US", "C"])
@pytest.mark.parametrize("value", [1, 99, 100_000, 123_456_789, 65_000_000])
def test_what_format_money_shows_parse_money_reads_back(name: str, value: int) -> None:
    locale = QLocale(name)
    for currency in Currency:
        money = Money(value, currency)
        shown = format_money(money, locale)
        assert parse_money(shown, currency, locale) == money, shown
        assert parse_money(format_money(money, locale, code=False), currency, locale) == money


def test_format_money_uses_the_locale_and_never_floats() -> None:
    nb = QLocale("nb_NO")
    assert format_money(Money(123456789, Currency.NOK), nb) == "1\u00a0234\u00a0567,89\u00a0kr"
    assert format_money(Money(123456789, Currency.DKK), nb) == "1\u00a0234\u00a0567,89\u00a0DKK"
    assert format_money(Money(-5, Currency.EUR), C) == "-0.05\u00a0EUR"
    assert format_money(Money(10**17 + 1, Currency.DKK), C) == "1000000000000000.01\u00a0DKK"


def test_new_demo_payment_dialog_accepts_only_exact_amounts(qtbot: Any) -> None:
    dialog = NewDemoPaymentDialog(Currency.NOK, locale=C)
    qtbot.addWidget(dialog)
    assert not dialog.ok_button.isEnabled()
    qtbot.keyClicks(dialog.amount, "12.345")
    assert not dialog.ok_button.isEnabled()
    assert "decimals" in dialog.amount_field.check.text()  # said under the amount itself
    dialog.amount.setText("12.34")
    assert dialog.ok_button.isEnabled()
    assert dialog.value() == (Money(1234, Currency.NOK), "Demo purchase")


def test_the_window_paints_the_profiles_banner_before_a_desk_is_bound(qtbot: Any) -> None:
    from epay_desktop.services import DEMO_PROFILE, Profile, ProfileKind
    from epay_desktop.ui.window.main_window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    assert window.banner.objectName() == "OpeningBanner"
    window.show_profile(DEMO_PROFILE)
    assert window.banner.objectName() == "DemoBanner"
    shop = Profile("Shop", ProfileKind.PRODUCTION, "123456", "client", None)
    window.show_profile(shop)
    assert window.banner.objectName() == "ProductionBanner"
    assert "PRODUCTION — Shop" in window.banner.text()
    assert "Shop (MSN 123456)" in window.windowTitle()
    assert not window.bound


def test_the_banner_says_a_plain_http_sandbox_is_not_encrypted(qtbot: Any, tmp_path: Any) -> None:
    from epay_desktop.services import Profile, ProfileKind
    from epay_desktop.ui.window.main_window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    room = Profile(
        "Training room", ProfileKind.CUSTOM, "223344", "c", "http://10.0.0.5:8080", unencrypted_sandbox=True
    )
    window.show_profile(room)
    assert "NOT ENCRYPTED" in window.banner.text()
    assert "http://10.0.0.5:8080" in window.banner.text()
    window.resize(1100, 500)
    window.show()
    window.grab().save(str(tmp_path / "unencrypted.png"))
    local = Profile("Local", ProfileKind.CUSTOM, "223344", "c", "http://127.0.0.1:8787")
    window.show_profile(local)
    assert "NOT ENCRYPTED" not in window.banner.text()


def test_skipped_rows_are_counted_in_words_with_plural_forms() -> None:
    from epay_desktop.ui.formatting import skipped_text

    assert skipped_text([]) == ""
    one = skipped_text(["order-1 (bad amount)"])
    assert one == "1 row could not be read and was skipped (the log has it): order-1 (bad amount)."
    five = skipped_text([f"order-{i} (bad)" for i in range(5)])
    assert five.startswith("5 rows could not be read and were skipped (the log has each): order-0 (bad);")
    assert five.endswith("order-2 (bad) and 2 more.")
    assert "(s)" not in one + five


def test_the_timeline_of_a_payment_shown_again_stays_until_its_new_log_is_read(qtbot: Any) -> None:
    """A refresh (or a busy mark) shows the same payment again without its log: its timeline is kept, not
    emptied and filled again; the same log read again changes nothing; a new one replaces it; another
    payment starts empty."""
    import dataclasses

    panel = DetailsPanel(locale=C)
    qtbot.addWidget(panel)
    tp = tracked("order-000020", amount=10_000, captured=4_000)
    assert tp.events is not None
    assert len(tp.events) == 2
    panel.show_payment(tp)
    changes: list[str] = []
    model = panel.events.model()
    model.rowsRemoved.connect(lambda *_a: changes.append("removed"))
    model.rowsInserted.connect(lambda *_a: changes.append("inserted"))
    refreshed = dataclasses.replace(tp, events=None)
    panel.show_payment(refreshed)
    assert panel.events.topLevelItemCount() == 2
    panel.show_events(tp.reference, tp.events)
    assert changes == []
    newer = PaymentEvent(
        tp.reference, "psp", EventName.CAPTURED, Money(1_000, Currency.NOK), T0, "key-2", True
    )
    panel.show_events(tp.reference, (*tp.events, newer))
    assert panel.events.topLevelItemCount() == 3
    assert panel.events.topLevelItem(2).text(4) == "key-2"
    panel.show_payment(dataclasses.replace(tp, events=None))
    panel.show_events(tp.reference, None, "The register could not be read.")
    assert [panel.events.topLevelItem(0).text(0)] == ["The register could not be read."]
    panel.show_payment(dataclasses.replace(tracked("order-000021", amount=10_000), events=None))
    assert panel.events.topLevelItemCount() == 0
