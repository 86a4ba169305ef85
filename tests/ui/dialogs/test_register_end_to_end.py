"""The register dialogs against a real desk: real SQLite, the real sandbox in-process, real widgets."""

from __future__ import annotations

import asyncio
import csv
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QDialog, QFileDialog, QLineEdit

from epay_desktop.domain import Currency, Money, State
from epay_desktop.services import PaymentDesk
from epay_desktop.ui.dialogs.add_payments import AddPaymentsDialog
from epay_desktop.ui.dialogs.audit import COLUMNS, AuditDialog
from epay_desktop.ui.dialogs.create_payment import CreatePaymentDialog
from epay_desktop.ui.dialogs.feedback import Tone
from tests.ui.dialogs.conftest import run, until
from tests.ui.dialogs.helpers import save_screenshot, unnamed_controls


def type_file_name(dialog: QFileDialog, path: Path) -> None:
    """Type the path into the file dialog's name box, as a person would (``selectFile`` leaves the box
    alone while it has the focus)."""
    name_box = dialog.findChild(QLineEdit, "fileNameEdit")
    assert name_box is not None
    name_box.setText(str(path))


def test_pasted_references_are_added_and_bad_lines_stay_for_fixing(
    qtbot: Any, dialog_loop: asyncio.AbstractEventLoop, desk: PaymentDesk, tmp_path: Path
) -> None:
    dialog = AddPaymentsDialog(desk)
    qtbot.addWidget(dialog)
    added: list[list[str]] = []
    dialog.references_added.connect(added.append)
    dialog.editor.setPlainText("order-1001-aaaa\nshort\norder-1002-bbbb; order-1001-aaaa\norder_1003\n")

    report = run(dialog_loop, dialog.add())

    assert report.added == ("order-1001-aaaa", "order-1002-bbbb")
    assert [(r.line, r.text) for r in report.rejected] == [(2, "short"), (4, "order_1003")]
    assert added == [["order-1001-aaaa", "order-1002-bbbb"]]
    # Only the lines that were not added are left, to fix; the report says what happened.
    assert dialog.editor.toPlainText() == "short\norder_1003"
    assert dialog.status.tone is Tone.WARNING
    assert dialog.status.text() == "2 added, 2 rejected."
    problems = [dialog.problems.item(i).text() for i in range(dialog.problems.count())]
    assert any(p.startswith("Not added: line 2: 'short'") for p in problems)
    registered = run(dialog_loop, desk.load_register())
    assert sorted(t.reference for t in registered) == ["order-1001-aaaa", "order-1002-bbbb"]

    # Adding one again: the register already has it, nothing new is announced.
    dialog.editor.setPlainText("order-1001-aaaa")
    report = run(dialog_loop, dialog.add())
    assert report.already_tracked == ("order-1001-aaaa",)
    assert dialog.status.text() == "0 added, 1 already in the register."
    assert len(added) == 1
    assert dialog.editor.toPlainText() == ""


def test_csv_import_goes_through_an_opened_file_dialog(
    qtbot: Any, dialog_loop: asyncio.AbstractEventLoop, desk: PaymentDesk, tmp_path: Path
) -> None:
    path = tmp_path / "orders.csv"
    path.write_text("Reference;Description\norder-2001-aaaa;Coffee\nbad ref;Tea\n\norder-2002-bbbb;Cake\n")
    dialog = AddPaymentsDialog(desk)
    qtbot.addWidget(dialog)
    reports: list[Any] = []
    dialog.report_shown.connect(reports.append)

    dialog.start_import()
    run(dialog_loop, until(lambda: dialog.file_dialog is not None and dialog.file_dialog.isVisible()))
    assert dialog.file_dialog is not None
    assert dialog.file_dialog.isModal()  # opened with open(): window-modal, no nested loop
    type_file_name(dialog.file_dialog, path)
    dialog.file_dialog.accept()
    run(dialog_loop, until(lambda: not dialog.busy))

    assert len(reports) == 1
    report = reports[0]
    assert report.added == ("order-2001-aaaa", "order-2002-bbbb")
    assert [r.line for r in report.rejected] == [3]
    assert "2 added" in dialog.status.text()
    assert "rejected (lines 3)" in dialog.status.text()


def test_cancelling_the_file_dialog_imports_nothing(
    qtbot: Any, dialog_loop: asyncio.AbstractEventLoop, desk: PaymentDesk
) -> None:
    dialog = AddPaymentsDialog(desk)
    qtbot.addWidget(dialog)
    task = dialog.runner.start("import", dialog.import_csv(), replace=False)
    run(dialog_loop, until(lambda: dialog.file_dialog is not None and dialog.file_dialog.isVisible()))
    assert dialog.file_dialog is not None
    dialog.file_dialog.reject()
    assert task is not None
    assert run(dialog_loop, task) is None
    assert dialog.status.text() == ""


def test_a_qr_payment_is_created_shown_and_tracked(
    qtbot: Any, dialog_loop: asyncio.AbstractEventLoop, desk: PaymentDesk, tmp_path: Path
) -> None:
    dialog = CreatePaymentDialog(desk, currency=Currency.NOK)
    qtbot.addWidget(dialog)
    created: list[Any] = []
    dialog.payment_created.connect(created.append)
    dialog.amount_edit.setText("249,50")
    dialog.description_edit.setText("Two bags of coffee")
    dialog.qr_radio.setChecked(True)
    assert dialog.create_button.isEnabled()

    tracked = run(dialog_loop, dialog.create_payment())

    assert created == [tracked]
    assert tracked.payment is not None
    assert tracked.payment.amount == Money(24950, Currency.NOK)
    assert tracked.payment.state is State.CREATED
    assert tracked.payment.redirect_url
    assert dialog.qr_label.isVisibleTo(dialog)
    assert not dialog.qr_label.pixmap().isNull()
    assert dialog.link_label.text() == tracked.payment.redirect_url
    assert tracked.reference in dialog.status.text()
    # The Demo desk: the code leads into the built-in sandbox, so it is shown as a training picture.
    assert "picture for training" in dialog.status.text()
    assert "Approve" in dialog.status.text()
    assert "picture for training" in dialog.qr_label.toolTip()
    assert dialog.status.tone is Tone.OK
    registered = run(dialog_loop, desk.load_register())
    assert [t.reference for t in registered] == [tracked.reference]
    dialog.show()
    qtbot.waitExposed(dialog)
    assert unnamed_controls(dialog) == []
    save_screenshot(dialog, "new-payment-qr.png", tmp_path)

    dialog.reset()
    assert dialog.create_button.isVisibleTo(dialog)
    assert not dialog.qr_label.isVisibleTo(dialog)


def test_a_push_payment_goes_to_the_phone_and_an_api_refusal_is_shown(
    qtbot: Any, dialog_loop: asyncio.AbstractEventLoop, desk: PaymentDesk, tmp_path: Path
) -> None:
    dialog = CreatePaymentDialog(desk, currency=Currency.NOK)
    qtbot.addWidget(dialog)
    dialog.amount_edit.setText("100")
    dialog.description_edit.setText("Cake for the office")
    dialog.phone_edit.setText("+47 912 34 567")
    tracked = run(dialog_loop, dialog.create_payment())
    assert "sent to +4791234567" in dialog.status.text()
    assert tracked.payment is not None
    assert tracked.payment.amount == Money(10000, Currency.NOK)

    # DKK on a Norwegian (NOK) merchant: the sandbox refuses; the error is shown in the dialog, nothing
    # is announced, and the register does not keep a payment that does not exist.
    refused = CreatePaymentDialog(desk, currency=Currency.DKK)
    qtbot.addWidget(refused)
    announced: list[Any] = []
    refused.payment_created.connect(announced.append)
    refused.amount_edit.setText("100")
    refused.description_edit.setText("Cake for the office")
    refused.phone_edit.setText("+47 912 34 567")
    refused.start_create()
    run(dialog_loop, until(lambda: not refused.runner.is_running("create")))
    assert announced == []
    assert refused.status.tone is Tone.ERROR
    assert refused.status.text()
    registered = run(dialog_loop, desk.load_register())
    assert [t.reference for t in registered] == [tracked.reference]


def test_audit_log_shows_what_was_done_and_exports_csv(
    qtbot: Any, dialog_loop: asyncio.AbstractEventLoop, desk: PaymentDesk, tmp_path: Path
) -> None:
    run(dialog_loop, desk.add_references("order-3001-aaaa\norder-3002-bbbb\nbad"))
    run(dialog_loop, desk.create_payment(Money(5000, Currency.NOK), "Sandwich", None, "QR"))
    dialog = AuditDialog(desk)
    qtbot.addWidget(dialog)
    view = dialog.view
    dialog.show()  # loads the log
    run(dialog_loop, until(lambda: view.model.rowCount() >= 2))
    actions = {view.model.entry(r).action for r in range(view.model.rowCount())}
    assert {"add", "create"} <= actions
    assert all(view.model.entry(r).os_user == "kari" for r in range(view.model.rowCount()))
    view.filter_edit.setText("create")
    assert view.proxy.rowCount() == 1
    assert view.count_label.text() == f"1 of {view.model.rowCount()} entries"
    view.filter_edit.clear()
    assert unnamed_controls(dialog) == []
    save_screenshot(dialog, "audit-log.png", tmp_path)

    exported: list[tuple[str, int]] = []
    view.exported.connect(lambda path, count: exported.append((path, count)))
    target = tmp_path / "audit-export.csv"
    view.start_export()
    run(dialog_loop, until(lambda: view.file_dialog is not None and view.file_dialog.isVisible()))
    assert view.file_dialog is not None
    type_file_name(view.file_dialog, target)
    view.file_dialog.accept()
    run(dialog_loop, until(lambda: bool(exported)))
    assert exported == [(str(target), view.model.rowCount())]
    with target.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == view.model.rowCount()
    assert {row["action"] for row in rows} >= {"add", "create"}
    assert f"Exported {len(rows)} entries" in view.status.text()
    dialog.done(QDialog.DialogCode.Rejected)


def test_a_csv_without_a_reference_column_is_refused_in_the_dialog(
    qtbot: Any, dialog_loop: asyncio.AbstractEventLoop, desk: PaymentDesk, tmp_path: Path
) -> None:
    path = tmp_path / "wrong.csv"
    path.write_text("order;amount\norder-4001-aaaa;100\n")
    dialog = AddPaymentsDialog(desk)
    qtbot.addWidget(dialog)
    dialog.start_import()
    run(dialog_loop, until(lambda: dialog.file_dialog is not None and dialog.file_dialog.isVisible()))
    assert dialog.file_dialog is not None
    type_file_name(dialog.file_dialog, path)
    dialog.file_dialog.accept()
    run(dialog_loop, until(lambda: not dialog.busy))
    # The services' error reaches the status line through the dialog's runner; nothing was added.
    assert dialog.status.tone is Tone.ERROR
    assert "reference" in dialog.status.text()
    assert run(dialog_loop, desk.load_register()) == []
    assert dialog.import_button.isEnabled()


def test_the_audit_log_shows_an_unsettled_operation_as_pending_until_check_now_settles_it(
    qtbot: Any, dialog_loop: asyncio.AbstractEventLoop, desk: PaymentDesk, tmp_path: Path
) -> None:
    from epay_desktop.store import Operation

    payment = run(dialog_loop, desk.create_payment(Money(5000, Currency.NOK), "Sandwich", None, "QR"))
    # What a lost answer leaves behind: the intent written down, no outcome recorded.
    desk.store.journal.begin(
        operation=Operation.CANCEL,
        profile=desk.profile.name,
        msn=desk.profile.merchant_serial_number,
        reference=payment.reference,
        amount=None,
        idempotency_key="key-lost-answer",
        os_user="kari",
    )
    dialog = AuditDialog(desk)
    qtbot.addWidget(dialog)
    view = dialog.view
    dialog.show()
    run(dialog_loop, until(lambda: view.model.rowCount() >= 2))

    def results() -> list[str]:
        column = [c.key for c in COLUMNS].index("result")
        return [
            view.model.data(view.model.index(row, column)) or ""
            for row in range(view.model.rowCount())
            if view.model.entry(row).idempotency_key == "key-lost-answer"
        ]

    assert results() == ["pending: outcome not known yet"]
    save_screenshot(dialog, "audit-pending.png", tmp_path)
    view.filter_edit.setText("pending")
    assert view.proxy.rowCount() == 1

    # The request had reached the API; Check now reads the event log and settles the intent.
    run(dialog_loop, desk.client.cancel(payment.reference, idempotency_key="key-lost-answer"))
    messages, left = run(dialog_loop, desk.check_pending(payment.reference))
    assert left == 0, messages
    run(dialog_loop, view.reload())
    assert "pending: outcome not known yet" not in results()
    assert "requested" in results()
    assert len(results()) == 2
    dialog.done(QDialog.DialogCode.Rejected)
