"""Adding by reference (pasted text) and importing CSV files."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from epay_desktop.services import CsvImportError
from tests.services.conftest import MSN, Bench

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
    assert [(r.line, r.text) for r in report.rejected] == [(4, "bad"), (6, "Empty ref;")]
    assert [(d.line, d.text) for d in report.duplicates] == [(7, "order-000001")]
    assert "the same reference as line 2" in report.duplicates[0].reason
    assert "rejected (lines 4, 6)" in report.summary()
    assert "1 repeated in the file (lines 7)" in report.summary()
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


async def test_broken_rows_are_reported_by_line_and_every_good_row_is_kept(
    bench: Bench, tmp_path: Path
) -> None:
    path = tmp_path / "orders.csv"
    lines = [
        "reference,description",  # 1
        "order-000001,Latte",  # 2
        'order-000002,"Kaffe, stor',  # 3: the quote is never closed (it would swallow the rest)
        "order-000003,Espresso",  # 4
        "order-000004,Te,extra,cells",  # 5: too many columns
        ",No reference",  # 6: empty reference
        "order_000005,Underscore",  # 7: fails the pattern
        "order-000001,Latte again",  # 8: duplicate of line 2
        'order-000006,"Two',  # 9: a real multi-line cell (Alt+Enter in Excel) ...
        'lines",',  # 10: ... closed here, and an empty trailing cell is fine
        'order-000007,Bad "quote" inside',  # 11: a quote inside an unquoted cell is kept as text
        'order-000008,"closed"junk',  # 12: text after a closing quote
        "order-000009,Last",  # 13
    ]
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    report = await bench.desk.import_csv(path)
    assert report.added == (
        "order-000001",
        "order-000003",
        "order-000006",
        "order-000007",
        "order-000009",
    )
    assert [(r.line, r.reason.split(" (")[0].split(":")[0]) for r in report.rejected] == [
        (3, "a quote opened on this line is never closed"),
        (5, "has 4 columns; the header has 2"),
        (6, "the reference is empty"),
        (7, "has '_'"),
        (12, "the quoting is broken"),
    ]
    assert report.rejected[0].text == 'order-000002,"Kaffe, stor'
    assert report.rejected[3].text == "order_000005"
    assert [(d.line, d.text) for d in report.duplicates] == [(8, "order-000001")]
    assert report.rows == 11
    assert not report.ok
    rows = {t.reference: t.description for t in await bench.desk.load_register()}
    assert rows["order-000006"] == "Two lines"
    assert rows["order-000007"] == 'Bad "quote" inside'
    assert rows["order-000001"] == "Latte"  # the first row counts
    assert "5 rejected (lines 3, 5, 6, 7, 12)" in report.summary()
    newest = (await bench.desk.audit())[0]
    assert (newest.action, newest.result) == ("import", "partly")


async def test_a_stray_quote_does_not_join_the_rows_up_to_the_next_quote(
    bench: Bench, tmp_path: Path
) -> None:
    path = tmp_path / "orders.csv"
    body = (
        "reference;description\n"
        'order-000011;"Stray\n'  # 2: this quote ...
        "order-000012;Fine\n"
        'order-000013;Also stray"\n'  # 4: ... pairs with this one into a well-formed record
        "order-000014;Last\n"
    )
    path.write_text(body, encoding="utf-8")
    report = await bench.desk.import_csv(path)
    # As CSV, lines 2-4 are one row whose description holds lines 3 and 4; but those look like rows
    # of their own, so line 2 is reported and reading goes on with line 3.
    assert [r.line for r in report.rejected] == [2]
    assert report.added == ("order-000012", "order-000013", "order-000014")
    rows = {t.reference: t.description for t in await bench.desk.load_register()}
    assert rows["order-000013"] == 'Also stray"'


async def test_a_quote_never_closed_in_a_long_file_costs_one_row(bench: Bench, tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    good = [f"order-{i:06d},Row {i}" for i in range(1, 200)]
    path.write_text("reference,description\n" + '"order-broken,oops\n' + "\n".join(good), encoding="utf-8")
    report = await bench.desk.import_csv(path)
    assert len(report.added) == 199
    assert [r.line for r in report.rejected] == [2]


async def test_pasted_prose_adds_only_what_looks_like_a_reference_and_says_what_it_skipped(
    bench: Bench,
) -> None:
    text = (
        "Hello support, yesterday the customer paid (fjordkaffe-ord-100228) and\n"
        "tomorrow: fjordkaffe-ord-100241.\n"
        "standalonereference\n"
    )
    report = await bench.desk.add_references(text)
    assert report.added == ("fjordkaffe-ord-100228", "fjordkaffe-ord-100241", "standalonereference")
    skipped = {r.text: r.reason for r in report.rejected}
    assert {"yesterday", "customer", "tomorrow"} <= set(skipped)
    assert "a word, not a reference" in skipped["yesterday"]
    rows = {t.reference for t in await bench.desk.load_register()}
    assert rows == {"fjordkaffe-ord-100228", "fjordkaffe-ord-100241", "standalonereference"}


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32"])
async def test_a_utf16_csv_is_read(bench: Bench, tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "orders.csv"
    path.write_bytes("reference\tdescription\r\norder-000010\tBløtkake\r\n".encode(encoding))
    report = await bench.desk.import_csv(path)
    assert report.added == ("order-000010",)
    (row,) = await bench.desk.load_register()
    assert row.description == "Bløtkake"


async def test_a_csv_that_says_utf16_but_is_not_is_refused_with_that_reason(
    bench: Bench, tmp_path: Path
) -> None:
    path = tmp_path / "orders.csv"
    path.write_bytes(b"\xff\xfer\x00e\x00\x00\xd8")  # a lone high surrogate
    with pytest.raises(CsvImportError, match="UTF-16"):
        await bench.desk.import_csv(path)


async def test_nul_bytes_in_a_csv_never_reach_the_register(bench: Bench, tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    filler = "".join(f"order-{n:06d},ok\n" for n in range(300))  # past the first 4 KB
    path.write_bytes(
        (
            "reference,description\n"
            + filler
            + "order-999991,Bl\x00tkake\norder-99\x0099,x\norder-999993,fine\n"
        ).encode()
    )
    report = await bench.desk.import_csv(path)
    assert "order-999993" in report.added
    nul = [r for r in report.rejected if "NUL" in r.reason]
    assert [r.line for r in nul] == [302, 303]
    for row in await bench.desk.load_register():
        assert "\x00" not in row.reference
        assert "\x00" not in row.description


async def test_a_payment_added_by_reference_gets_its_created_time_from_the_created_event(
    bench: Bench,
) -> None:
    reference = await bench.approved_payment(4321)
    other = await bench.open_desk()
    try:
        await asyncio.to_thread(other.store.register.remove, MSN, reference)
        report = await other.add_references(reference)
        assert report.added == (reference,)
        added = await other.tracked(reference)
        assert added is not None
        assert added.created_at is None  # a pasted reference says nothing about when it was made
        fresh = await other.refresh(reference)
        created_event = next(e for e in fresh.events if e.name.value == "CREATED")
        assert fresh.created_at == created_event.timestamp
    finally:
        await other.aclose()
