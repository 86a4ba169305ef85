"""Adding by reference (pasted text) and importing CSV files."""

from __future__ import annotations

from pathlib import Path

import pytest

from epay_desktop.services import CsvImportError
from tests.services.conftest import Bench

pytestmark = pytest.mark.anyio


async def test_pasted_references_are_checked_one_by_one(bench: Bench) -> None:
    text = (
        "fjordkaffe-ord-100228, fjordkaffe-ord-100241\nshort\n\n"
        "  ord_with_underscore-1 ;fjordkaffe-ord-100228\n"
    )
    report = await bench.desk.add_references(text)
    assert report.added == ("fjordkaffe-ord-100228", "fjordkaffe-ord-100241")
    assert [(r.text, r.line) for r in report.rejected] == [("short", 2), ("ord_with_underscore-1", 4)]
    assert "too short" in report.rejected[0].reason
    assert "'_'" in report.rejected[1].reason
    assert not report.ok
    assert report.summary() == "2 added, 2 rejected."

    again = await bench.desk.add_references(["fjordkaffe-ord-100241", "x" * 64])
    assert again.added == ("x" * 64,)
    assert again.already_tracked == ("fjordkaffe-ord-100241",)
    assert len(await bench.desk.load_register()) == 3
    assert [(a.action, a.result) for a in await bench.desk.audit()] == [("add", "ok"), ("add", "partly")]


async def test_a_too_long_reference_is_rejected(bench: Bench) -> None:
    report = await bench.desk.add_references("y" * 65)
    assert report.added == ()
    assert "too long" in report.rejected[0].reason


async def test_csv_with_bom_semicolons_blank_lines_and_bad_rows(bench: Bench, tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    content = (
        "Description;Reference\r\n"
        "2x Latte;order-000001\r\n"
        "\r\n"
        "Bad one;bad\r\n"
        ";order-000002\r\n"
        "Empty ref;\r\n"
        "Dup;order-000001\r\n"
        '"Kaffe; stor";order-000003\r\n'
    )
    path.write_bytes(content.encode("utf-8-sig"))
    report = await bench.desk.import_csv(path)
    assert report.rows == 6
    assert report.added == ("order-000001", "order-000002", "order-000003")
    assert [(r.line, r.text) for r in report.rejected] == [(4, "bad"), (6, "")]
    assert "lines 4, 6" in report.summary()
    rows = {t.reference: t for t in await bench.desk.load_register()}
    assert rows["order-000001"].description == "2x Latte"
    assert rows["order-000003"].description == "Kaffe; stor"


async def test_csv_in_windows_1252_with_commas(bench: Bench, tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_bytes("reference,description\norder-000009,Bløtkake\n".encode("cp1252"))
    report = await bench.desk.import_csv(path)
    assert report.added == ("order-000009",)
    (row,) = await bench.desk.load_register()
    assert row.description == "Bløtkake"


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"", "empty"),
        (b"\n\n", "empty"),
        (b"ref,description\norder-000001,x\n", "no 'reference' column"),
        (b"PK\x03\x04\x00\x00binary", "not a text file"),
    ],
)
async def test_a_csv_that_cannot_be_imported_says_why_and_adds_nothing(
    bench: Bench, tmp_path: Path, content: bytes, match: str
) -> None:
    path = tmp_path / "orders.csv"
    path.write_bytes(content)
    with pytest.raises(CsvImportError, match=match):
        await bench.desk.import_csv(path)
    assert await bench.desk.load_register() == []


async def test_a_missing_csv_file_says_so(bench: Bench, tmp_path: Path) -> None:
    with pytest.raises(CsvImportError, match="cannot be read"):
        await bench.desk.import_csv(tmp_path / "nope.csv")
