"""The new-payment dialog: exact amount, description, phone or QR, and the QR image itself."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import segno
from PySide6.QtGui import QImage

from epay_desktop.domain import Currency, Money
from epay_desktop.services import DEMO_PROFILE
from epay_desktop.ui.dialogs.create_payment import QR_SCALE, CreatePaymentDialog, qr_png, qr_svg
from epay_desktop.ui.dialogs.inputs import InputError
from tests.ui.dialogs.helpers import unnamed_controls

URL = "https://landing.vipps.no?token=eyJraWQiOiJqd3RrZXkiLCJhbGciOiJSUzI1NiJ9.demo-0001"


def form_only_desk() -> Any:
    # These tests exercise the form only; the desk is never called (the end-to-end tests use a real one).
    return SimpleNamespace(profile=DEMO_PROFILE)


def modules_in(image: QImage, size: int, scale: int = QR_SCALE, border: int = 4) -> list[list[bool]]:
    return [
        [
            image.pixelColor((c + border) * scale + scale // 2, (r + border) * scale + scale // 2).lightness()
            < 128
            for c in range(size)
        ]
        for r in range(size)
    ]


def test_qr_png_encodes_exactly_the_link() -> None:
    image = QImage.fromData(qr_png(URL), "PNG")
    assert not image.isNull()
    symbol = segno.make(URL, error="m", micro=False)
    size = symbol.symbol_size(border=0)[0]
    assert image.width() == (size + 8) * QR_SCALE
    expected = [[bool(v) for v in row] for row in symbol.matrix]
    assert modules_in(image, size) == expected
    assert qr_svg(URL).lstrip().startswith(b"<?xml")


def test_form_reads_exact_money_and_msisdn(qtbot: Any) -> None:
    dialog = CreatePaymentDialog(form_only_desk(), currency=Currency.NOK)
    qtbot.addWidget(dialog)
    assert not dialog.create_button.isEnabled()
    assert not dialog.currency_combo.isEnabled()
    dialog.amount_edit.setText("1 234,50")
    shown = dialog.amount_check.text()
    assert shown.startswith("= ")
    assert shown.endswith("234.50\u00a0NOK") or shown.endswith("234,50\u00a0NOK")  # locale's marks
    dialog.description_edit.setText("  Coffee beans  ")
    dialog.phone_edit.setText("+47 912 34 567")
    assert dialog.create_button.isEnabled()
    assert dialog.read_form() == (Money(123450, Currency.NOK), "Coffee beans", "4791234567")
    assert dialog.user_flow == "PUSH_MESSAGE"
    dialog.qr_radio.setChecked(True)
    assert not dialog.phone_edit.isEnabled()
    assert dialog.read_form() == (Money(123450, Currency.NOK), "Coffee beans", None)
    assert dialog.user_flow == "QR"


@pytest.mark.parametrize(
    ("amount", "description", "phone", "why"),
    [
        ("12,345", "Coffee", "4791234567", "ambiguous"),
        ("12", "ab", "4791234567", "at least 3"),
        ("12", "Coffee", "9123456", "country code"),
        ("0,50", "Coffee", "4791234567", "smallest NOK"),
    ],
)
def test_bad_input_keeps_create_disabled_and_says_why(
    qtbot: Any, amount: str, description: str, phone: str, why: str
) -> None:
    dialog = CreatePaymentDialog(form_only_desk(), currency=Currency.NOK)
    qtbot.addWidget(dialog)
    dialog.amount_edit.setText(amount)
    dialog.description_edit.setText(description)
    dialog.phone_edit.setText(phone)
    assert not dialog.create_button.isEnabled()
    assert why in dialog.create_button.toolTip()
    with pytest.raises(InputError, match=why):
        dialog.read_form()


def test_without_a_profile_currency_the_person_picks_one(qtbot: Any, tmp_path: Path) -> None:
    dialog = CreatePaymentDialog(form_only_desk())
    qtbot.addWidget(dialog)
    assert dialog.currency_combo.isEnabled()
    dialog.currency_combo.setCurrentIndex(dialog.currency_combo.findData("EUR"))
    dialog.amount_edit.setText("0,01")
    assert dialog.amount_check.text().startswith("= ")
    dialog.show()
    qtbot.waitExposed(dialog)
    assert unnamed_controls(dialog) == []
