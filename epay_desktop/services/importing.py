"""Reading references people paste and CSV files they import. Pure functions: no I/O but reading a file.

Pasted text: one reference or many, separated by whitespace, commas, semicolons or new lines; each is
checked against ``domain.REFERENCE_PATTERN`` and reported on its own (with its line number). Quotes,
brackets and ending punctuation around a token are dropped; a token without a digit that stands among
other tokens on its line is taken for a word of prose and skipped (and said), not added.

CSV: a header row with a ``reference`` column (any case, surrounding spaces ignored) and optionally
``description``; ``,``, ``;`` or tab as delimiter; UTF-8 with or without BOM (Excel writes one), UTF-16
and UTF-32 with a BOM (Excel's "Unicode text") or UTF-16 without one, Windows-1252 as a fallback; a line
with a NUL character is reported and never imported; blank lines skipped; a quoted cell may span lines.
Every row is judged on its own: a broken row (an unterminated quote, too many columns, an empty or bad
reference) is reported with its line number, a repeated reference too (imported once), and every good
row is kept.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from epay_desktop.domain import is_valid_reference
from epay_desktop.i18n import N_, _, ngettext, translate
from epay_desktop.services.results import RejectedItem

SEPARATORS = re.compile(r"[\s,;]+")
LINE_BREAK = re.compile(r"\r\n|\r|\n")
MAX_RECORD_LINES = 20  # a quoted cell may span this many lines; a longer "cell" is an unclosed quote
MAX_DESCRIPTION = 100
MAX_CSV_BYTES = 50 * 1024 * 1024
REFERENCE_RULE = N_("not a payment reference (8 to 64 letters, digits or dashes)")
WORD_RULE = N_(
    "a word, not a reference: it has no digit and stands among other words (paste it on a line of its "
    "own to add it)"
)
# Around a reference in running text: quotes, brackets and the punctuation that ends a phrase.
SURROUNDING = "\"'()[]{}<>.:!?"


class CsvImportError(ValueError):
    """The file as a whole cannot be imported (unreadable, no ``reference`` column); nothing was added."""


@dataclass(frozen=True, slots=True)
class Candidate:
    reference: str
    description: str = ""
    line: int | None = None


def _reason(text: str) -> str:
    if len(text) < 8:
        return ngettext(
            "too short ({count} character): {rule}", "too short ({count} characters): {rule}", len(text)
        ).format(count=len(text), rule=translate(REFERENCE_RULE))
    if len(text) > 64:
        return _("too long ({count} characters): {rule}").format(
            count=len(text), rule=translate(REFERENCE_RULE)
        )
    bad = sorted({c for c in text if not (c.isascii() and (c.isalnum() or c == "-"))})
    return _("has {characters}: {rule}").format(
        characters=" ".join(repr(c) for c in bad[:5]), rule=translate(REFERENCE_RULE)
    )


def parse_references(text_or_list: str | Iterable[str]) -> tuple[list[Candidate], list[RejectedItem]]:
    """Split and check pasted references. Duplicates in the input are kept once (first line wins)."""
    if isinstance(text_or_list, str):
        lines = text_or_list.splitlines()
    else:
        lines = [str(item) for item in text_or_list]
    good: list[Candidate] = []
    rejected: list[RejectedItem] = []
    seen: set[str] = set()
    for number, line in enumerate(lines, start=1):
        tokens = [t.strip(SURROUNDING) for t in SEPARATORS.split(line.strip())]
        tokens = [t for t in tokens if t]
        for token in tokens:
            if not is_valid_reference(token):
                rejected.append(RejectedItem(token, _reason(token), number))
            elif len(tokens) > 1 and not any(c.isdigit() for c in token):
                # Pasted prose (an e-mail, a chat): its long words fit the reference pattern too.
                rejected.append(RejectedItem(token, translate(WORD_RULE), number))
            elif token not in seen:
                seen.add(token)
                good.append(Candidate(token, line=number))
    return good, rejected


_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _utf16_without_bom(raw: bytes) -> str | None:
    """``utf-16-le``/``-be`` when ``raw`` looks like UTF-16 text without a byte order mark (ASCII
    characters then leave a NUL in every other byte), else None."""
    sample = raw[:4096]
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) > 0.4 * len(odd) and even.count(0) == 0:
        return "utf-16-le"
    if even.count(0) > 0.4 * len(even) and odd.count(0) == 0:
        return "utf-16-be"
    return None


def _decode(raw: bytes, path: Path) -> str:
    for bom, encoding in _BOMS:
        if raw.startswith(bom):
            try:
                return raw.decode(encoding)
            except UnicodeDecodeError as error:
                name = encoding.replace("-sig", "").upper()
                raise CsvImportError(
                    _("{name} starts as {encoding} text but is not valid {encoding} at byte {byte}.").format(
                        name=path.name, encoding=name, byte=error.start
                    )
                ) from None
    wide = _utf16_without_bom(raw)
    if wide is not None:
        try:
            return raw.decode(wide)
        except UnicodeDecodeError:
            pass
    if b"\x00" in raw[:4096]:
        raise CsvImportError(
            _("{name} is not a text file (is it a spreadsheet? Save it as CSV).").format(name=path.name)
        )
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise CsvImportError(_("{name} is neither UTF-8 nor Windows-1252 text.").format(name=path.name))


def _delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


@dataclass(slots=True)
class CsvRows:
    """What a CSV file held: good rows, rejected rows and repeated references (each with its line
    number), and how many data rows were read."""

    good: list[Candidate]
    rejected: list[RejectedItem]
    duplicates: list[RejectedItem]
    rows: int


def _parse_record(chunk: str, delimiter: str) -> tuple[list[str] | None, bool]:
    """One CSV record, strictly: (cells, False), or (None, True) when a quoted field is still open at
    the end of ``chunk``, or (None, False) when the quoting is broken (``"ab"cd``)."""
    reader = csv.reader(io.StringIO(chunk, newline=""), delimiter=delimiter, strict=True)
    try:
        rows = list(reader)
    except csv.Error as error:
        return None, "unexpected end of data" in str(error)
    if len(rows) != 1:
        return None, False
    return rows[0], False


def _records(
    lines: list[str], delimiter: str, plausible: Callable[[list[str], list[str]], bool]
) -> Iterator[tuple[int, list[str] | None, str]]:
    """(line number, cells or None when broken, raw first line) per record, skipping blank lines.

    A quoted cell may span lines (Excel writes Alt+Enter that way); a quote that is never closed would
    swallow every later row, so such a line is reported on its own and reading resumes on the next."""
    index = 0
    while index < len(lines):
        first = lines[index]
        if not first.strip():
            index += 1
            continue
        chunk, end = first, index
        while True:
            cells, still_open = _parse_record(chunk, delimiter)
            if not still_open or end + 1 >= len(lines) or end - index + 1 >= MAX_RECORD_LINES:
                break
            end += 1
            chunk += "\n" + lines[end]
        if cells is not None and end > index and not plausible(cells, lines[index + 1 : end + 1]):
            cells = None  # a stray quote paired with one on a later line: not a real multi-line cell
        if cells is None:
            yield index + 1, None, first
            index += 1
        else:
            yield index + 1, cells, first
            index = end + 1


def _used(cells: list[str]) -> int:
    """How many cells a row uses (trailing empty cells, as spreadsheets write them, do not count)."""
    used = len(cells)
    while used and not cells[used - 1].strip():
        used -= 1
    return used


def _excerpt(text: str, limit: int = 60) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _read_text(path: Path) -> str:
    try:
        size = path.stat().st_size
        if size > MAX_CSV_BYTES:
            raise CsvImportError(
                _("{name} is {size} MB; the limit is 50 MB.").format(
                    name=path.name, size=size // (1024 * 1024)
                )
            )
        raw = path.read_bytes()
    except OSError as error:
        raise CsvImportError(
            _("{name} cannot be read: {problem}.").format(name=path.name, problem=error.strerror or error)
        ) from error
    return _decode(raw, path)


def parse_csv(path: Path) -> CsvRows:
    """Read a CSV file of references. Every row is judged on its own: a broken one (an unterminated
    quote, too many columns, a bad or empty reference) is reported with its line number and every
    good row is kept. Only a file that cannot be read at all, or lacks the header, raises."""
    lines = LINE_BREAK.split(_read_text(path))
    header_line = next((line for line in lines if line.strip()), None)
    if header_line is None:
        raise CsvImportError(_("{name} is empty.").format(name=path.name))
    delimiter = _delimiter(header_line)
    header: list[str] | None = None
    ref_col = desc_col = -1

    def plausible(cells: list[str], continued: list[str]) -> bool:
        """A record over several lines is a real multi-line cell only if it fits the header, has a
        good reference, and none of the lines it swallowed looks like a row of its own."""
        if header is None or _used(cells) > len(header) or ref_col >= len(cells):
            return False
        if not is_valid_reference(cells[ref_col].strip()):
            return False
        for text in continued:
            own = next(csv.reader([text], delimiter=delimiter), [])
            if ref_col < len(own) and is_valid_reference(own[ref_col].strip()):
                return False
        return True

    result = CsvRows([], [], [], 0)
    seen: dict[str, int] = {}
    for line, cells, raw in _records(lines, delimiter, plausible):
        if header is None:
            if cells is None:
                raise CsvImportError(
                    _("{name} line {line}: the header row has broken quoting ({raw!r}).").format(
                        name=path.name, line=line, raw=_excerpt(raw)
                    )
                )
            header = [cell.strip().lower() for cell in cells]
            if "reference" not in header:
                found = ", ".join(repr(c) for c in cells[:6])
                raise CsvImportError(
                    _(
                        "{name} has no 'reference' column in its first row (found {found}). Add a header "
                        "row with a column named reference."
                    ).format(name=path.name, found=found)
                )
            ref_col = header.index("reference")
            desc_col = header.index("description") if "description" in header else -1
            continue
        result.rows += 1
        problem, reference, description = _judge(cells, raw, header, ref_col, desc_col)
        if problem is not None:
            result.rejected.append(RejectedItem(reference or _excerpt(raw), problem, line))
        elif reference in seen:
            # The same payment twice in one file: the first row counts; the repeat is reported.
            reason = _("the same reference as line {line}; imported once").format(line=seen[reference])
            result.duplicates.append(RejectedItem(reference, reason, line))
        else:
            seen[reference] = line
            result.good.append(Candidate(reference, description, line))
    return result


def _judge(
    cells: list[str] | None, raw: str, header: list[str], ref_col: int, desc_col: int
) -> tuple[str | None, str, str]:
    """(problem or None, reference, description) of one data row."""
    if "\x00" in raw or (cells is not None and any("\x00" in cell for cell in cells)):
        # Never into the register: a NUL cuts text short in other programs and hides what follows.
        return _("has a NUL character (a binary or damaged line); nothing of it was imported"), "", ""
    if cells is None:
        if raw.count('"') % 2:
            return _("a quote opened on this line is never closed"), "", ""
        return _("the quoting is broken (text after a closing quote?)"), "", ""
    if _used(cells) > len(header):
        return (
            _("has {count} columns; the header has {header}").format(count=_used(cells), header=len(header)),
            "",
            "",
        )
    reference = cells[ref_col].strip() if ref_col < len(cells) else ""
    description = " ".join(cells[desc_col].split()) if 0 <= desc_col < len(cells) else ""
    if not reference:
        return _("the reference is empty"), "", description
    if not is_valid_reference(reference):
        return _reason(reference), reference, description
    if len(description) > MAX_DESCRIPTION:
        text = _("the description is longer than {count} characters").format(count=MAX_DESCRIPTION)
        return text, reference, description
    return None, reference, description
