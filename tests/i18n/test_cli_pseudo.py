"""Nothing the ``epay`` command line says to a person stays English: every command run under
``--lang x-pseudo`` (every translated text bracketed ⟦…⟧), on the in-process sandbox, and every line of
its human output that reads as a sentence must have come through the catalog.

What may stay as it is: data (references, amounts, keys, URLs, commands to copy) and, inside a
translated sentence, the API's own title and detail."""

from __future__ import annotations

import io
import re

import pytest

from epay_desktop.cli import main

REF = "pseudo-cli-000001"
PSEUDO = ("--lang", "x-pseudo")
# Three words of letters in a row: a sentence (a reference like "pseudo-cli-000001" is not one).
_SENTENCE = re.compile(r"[A-Za-z]{2,}[,;:]? [A-Za-z]{2,}[,;:]? [A-Za-z]{2,}")


def run(capsys: pytest.CaptureFixture[str], *argv: str, stdin: str = "") -> tuple[int, str]:
    code = main([*PSEUDO, *argv], stdin=io.StringIO(stdin))
    out, err = capsys.readouterr()
    return code, out + err


def english_lines(output: str) -> list[str]:
    """Lines that read as English sentences and show no sign of the catalog."""
    found = []
    for line in output.splitlines():
        if "⟦" in line:
            continue
        # What the person copies stays as it is: commands, and argparse's usage lines. argparse's own
        # few words (its -h and --version help) come from Python, which ships no catalogs for them.
        bare = re.sub(r"epay(-\w+)? [^\n]*|usage: .*|https?://\S+", "", line)
        bare = bare.replace("show this help message and exit", "").replace(
            "show program's version number and exit", ""
        )
        if _SENTENCE.search(bare):
            found.append(line)
    return found


def test_the_checker_finds_english() -> None:
    assert english_lines("Captured 10.00 NOK of abc.\n⟦Çåþţüŕéð⟧ 10.00 NOK\nabc-123  10.00 NOK") == [
        "Captured 10.00 NOK of abc."
    ]


def test_every_human_line_of_epay_goes_through_the_catalog(capsys: pytest.CaptureFixture[str]) -> None:
    said: dict[str, str] = {}

    def step(name: str, *argv: str, expect: int | None = None, stdin: str = "") -> None:
        code, output = run(capsys, *argv, stdin=stdin)
        if expect is not None:
            assert code == expect, (name, output)
        said[name] = output

    step("create", "create", "100.00", "-d", "Pseudo", "--phone", "4791234567", "--reference", REF, expect=0)
    step("approve", "approve", REF, expect=0)
    step("get", "get", REF, expect=0)
    step("events", "events", REF, expect=0)
    step("capture", "capture", REF, "30.00", expect=0)
    step("capture again", "capture", REF, "30.00")  # the repeat within minutes asks first
    step("refund too much", "refund", REF, "99.00")  # refused by the API, with our advice
    step("bad amount", "capture", REF, "1,250")
    step("bad reference", "get", "no!")
    step("cancel without --yes", "cancel", REF, stdin="n\n")
    step("cancel", "cancel", REF, "--yes")
    step("cancelled already", "cancel", REF, "--yes")
    step("unknown payment", "get", "pseudo-cli-404404")
    step("webhooks list", "webhooks", "list")
    step("token", "token")
    step("help", "--help")
    step("bad base url", "--base-url", "ftp://x", "get", REF)
    problems = {name: english_lines(output) for name, output in said.items()}
    assert not {name: lines for name, lines in problems.items() if lines}, problems
