"""Reading references people paste and CSV files they import. Pure functions: no I/O but reading a file.

Pasted text: one reference or many, separated by whitespace, commas, semicolons or new lines; each is
checked against ``domain.REFERENCE_PATTERN`` and reported on its own (with its line number).

CSV: a header row with a ``reference`` column (any case, surrounding spaces ignored) and optionally
``description``; ``,`` or ``;`` as delimiter; UTF-8 with or without BOM (Excel writes one), Windows-1252
as a fallback; blank lines skipped. Bad rows are reported with their line numbers; good rows are kept.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from epay_desktop.domain import is_valid_reference
from epay_desktop.services.results import RejectedItem

SEPARATORS = re.compile(r"[\s,;]+")
MAX_DESCRIPTION = 100
MAX_CSV_BYTES = 50 * 1024 * 1024
REFERENCE_RULE = "not a payment reference (8 to 64 letters, digits or dashes)"


class CsvImportError(ValueError):
    """The file as a whole cannot be imported (unreadable, no ``reference`` column); nothing was added."""


@dataclass(frozen=True, slots=True)
class Candidate:
    reference: str
    description: str = ""
    line: int | None = None


def _reason(text: str) -> str:
    if len(text) < 8:
        return f"too short ({len(text)} characters): {REFERENCE_RULE}"
    if len(text) > 64:
        return f"too long ({len(text)} characters): {REFERENCE_RULE}"
    bad = sorted({c for c in text if not (c.isascii() and (c.isalnum() or c == "-"))})
    return f"has {' '.join(repr(c) for c in bad[:5])}: {REFERENCE_RULE}"


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
        for token in SEPARATORS.split(line.strip()):
            token = token.strip("\"'")
            if not token:
                continue
            if not is_valid_reference(token):
                rejected.append(RejectedItem(token, _reason(token), number))
            elif token not in seen:
                seen.add(token)
                good.append(Candidate(token, line=number))
    return good, rejected


def _decode(raw: bytes, path: Path) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise CsvImportError(f"{path.name} is neither UTF-8 nor Windows-1252 text.")


def _delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def parse_csv(path: Path) -> tuple[list[Candidate], list[RejectedItem], int]:
    """Read a CSV file of references. Returns (good rows, rejected rows, data rows read)."""
    try:
        size = path.stat().st_size
        if size > MAX_CSV_BYTES:
            raise CsvImportError(f"{path.name} is {size // (1024 * 1024)} MB; the limit is 50 MB.")
        raw = path.read_bytes()
    except OSError as error:
        raise CsvImportError(f"{path.name} cannot be read: {error.strerror or error}.") from error
    if b"\x00" in raw[:4096]:
        raise CsvImportError(f"{path.name} is not a text file (is it a spreadsheet? Save it as CSV).")
    text = _decode(raw, path)
    lines = text.splitlines()
    header_index = next((i for i, line in enumerate(lines) if line.strip()), None)
    if header_index is None:
        raise CsvImportError(f"{path.name} is empty.")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(lines[header_index]))
    header: list[str] | None = None
    ref_col = desc_col = -1
    good: list[Candidate] = []
    rejected: list[RejectedItem] = []
    seen: dict[str, int] = {}
    rows = 0
    try:
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if header is None:
                header = [cell.strip().lower() for cell in row]
                if "reference" not in header:
                    found = ", ".join(repr(c) for c in row[:6])
                    raise CsvImportError(
                        f"{path.name} has no 'reference' column in its first row (found {found}). "
                        "Add a header row with a column named reference."
                    )
                ref_col = header.index("reference")
                desc_col = header.index("description") if "description" in header else -1
                continue
            rows += 1
            reference = row[ref_col].strip() if ref_col < len(row) else ""
            description = row[desc_col].strip() if 0 <= desc_col < len(row) else ""
            if not reference:
                rejected.append(RejectedItem("", "the reference is empty", line))
            elif not is_valid_reference(reference):
                rejected.append(RejectedItem(reference, _reason(reference), line))
            elif len(description) > MAX_DESCRIPTION:
                rejected.append(
                    RejectedItem(
                        reference, f"the description is longer than {MAX_DESCRIPTION} characters", line
                    )
                )
            elif reference in seen:
                continue  # the same payment twice in one file: the first row counts
            else:
                seen[reference] = line
                good.append(Candidate(reference, description, line))
    except csv.Error as error:
        raise CsvImportError(f"{path.name} line {reader.line_num}: {error}. Nothing was imported.") from error
    if header is None:
        raise CsvImportError(f"{path.name} is empty.")
    return good, rejected, rows
