"""Nothing made for a person to read stays English, in ``ui/`` or below it: every sentence-like string
literal (or f-string) in ``ui/``, ``services/``, ``cli/``, ``api/``, ``domain/`` and ``app/`` either goes
through the catalog (``_``, ``ngettext``, ``N_``...) or is named here with the reason it is not for a
person.

A sentence is three words of letters in a row. Not counted: docstrings, logging calls (the log is for
whoever debugs, in English), ``__repr__``, and commands or formats a person copies as they are."""

from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "epay_desktop"
SCANNED = ("ui", "services", "cli", "api", "domain", "app")
_TRANSLATING = {"_", "gettext", "ngettext", "pgettext", "npgettext", "N_"}
_LOGGING = {"debug", "info", "warning", "error", "exception", "critical", "log"}
_SENTENCE = re.compile(r"[A-Za-z]{2,}[,;:)(]? [A-Za-z(]{2,}[,;:)]? [A-Za-z]{2,}")
# Copied by a person as it is: commands, and logging's record formats; and Qt style sheets.
_VERBATIM = re.compile(
    r"^\s*(epay\b|epay-webhooks\b|\S*=<secret> epay-webhooks)|%\(\w+\)s|[\w-]+\s*:\s*[^;]*;"
)

# Whole modules whose words are not for a person at the desk, and why.
NOT_FOR_PEOPLE = {
    "api/webhooks.py": "the webhook receiver's reasons for refusing a delivery: logged, and answered to "
    "Vipps MobilePay's servers",
    "api/parse.py": "diagnostics of a malformed server answer (which field was wrong): quoted as the "
    "reason inside a translated sentence, for a bug report",
    "services/team_rows.py": "diagnostics of a malformed team-server answer (as api/parse.py)",
    "services/wire.py": "diagnostics of a malformed payment row (as api/parse.py)",
    "services/team_cache.py": "why a damaged list file is ignored: logged, never shown",
    "services/accounts.py": "epay-team's answers to its HTTP clients (a team client translates by the "
    "answer's code, not its text)",
    "services/team_moves.py": "epay-team's answers to its HTTP clients (as above)",
    "services/team_approvals.py": "epay-team's answers to its HTTP clients (as above)",
    "services/team_payments.py": "epay-team's answers to its HTTP clients (as above)",
    "services/team_history.py": "epay-team's answers to its HTTP clients (as above)",
    "ui/offscreen.py": "--screenshot's own errors, for whoever scripts the pictures",
    "app/display.py": "said on stderr when no window can open at all, before a language can be chosen "
    "from Settings",
}

# Single texts, by module and the start of the text, and why.
ALLOWED = {
    # Programming errors: raised for a caller's bug, never for anything a person typed or a server said.
    ("api/client.py", "the amount must be Money"): "programming error",
    ("api/client.py", "unknown user flow"): "programming error (the CLI offers choices)",
    ("api/controls.py", "unknown customer action"): "programming error (the CLI offers choices)",
    ("api/inputs.py", "the  amount must be Money"): "programming error",
    ("api/inputs.py", "the  amount must be more than zero"): "programming error (amounts are read first)",
    ("api/environment.py", "unknown environment kind"): "programming error",
    ("api/environment.py", "the  must be text"): "programming error (the fields are typed as text)",
    ("api/retry.py", "max_attempts must be at least"): "programming error",
    ("api/retry.py", "delays and the budget"): "programming error",
    ("domain/money.py", "money must be an integer"): "programming error",
    ("domain/business.py", "the aggregate of  mixes currencies"): "programming error (as Money's own)",
    ("domain/listed.py", "reorder needs every row once"): "programming error",
    ("services/batch.py", "a batch cancels or captures"): "programming error",
    ("ui/aio.py", "create the QApplication before"): "programming error",
    ("ui/aio.py", "coroutines cannot be used with"): "programming error (asyncio's own words)",
    ("ui/aio.py", "callback must be callable"): "programming error (asyncio's own words)",
    ("ui/aio.py", "Qt could not start a timer"): "programming error (a loop used off its thread)",
    ("ui/first_paint.py", " has no enum property"): "programming error",
    ("ui/table/proxy.py", "PaymentsFilterModel works over"): "programming error",
    ("ui/table/view.py", "this view shows a model already"): "programming error",
    ("ui/window/actions.py", "submenus go in menus"): "programming error",
    ("ui/window/live_updates.py", "bind the window to its desk first"): "programming error",
    ("ui/window/main_window.py", "this window is bound to a desk already"): "programming error",
    ("ui/window/main_window.py", "a desk is bound: its load fills"): "programming error",
    ("services/demo.py", "DemoControls is not bound"): "programming error",
    ("services/desk.py", "the client is for serial number"): "programming error",
    ("services/outcomes.py", "no amount is known"): "programming error",
    # A server's answer that contradicts the request: quoted as the reason in a translated sentence.
    ("api/client.py", "The answer to  is for payment"): "diagnostic of a wrong answer",
    ("api/client.py", "The event log asked for"): "diagnostic of a wrong answer",
    ("api/controls.py", "sandbox payments: expected"): "diagnostic of a wrong answer",
    ("api/webhooks_client.py", "webhook list: webhooks is missing"): "diagnostic of a wrong answer",
    ("api/webhooks_client.py", ":  is missing or not text"): "diagnostic of a wrong answer",
    # Names and keys, not sentences.
    ("api/client.py", "get event log"): "an operation's name (its words are api.errors.call_words)",
    ("api/client.py", "event log of"): "what a JSON body was, for the parse diagnostics",
    ("api/client.py", "the call on"): "what a JSON body was, for the parse diagnostics",
    ("api/errors.py", "get event log"): "a key of the table of calls",
    ("api/errors.py", "get access token"): "a key of the table of calls",
    ("api/session.py", "get access token"): "an operation's name",
    ("api/transport.py", "aiohttp through httpx-aiohttp"): "the transport's name in the About box",
    ("services/importing.py", "unexpected end of data"): "compared with the csv module's own message",
    # The audit log: a record written once, in one language, of what happened.
    ("services/tracking.py", "removed from the register (not the API)"): "an audit record",
    ("services/tracking.py", "back in the register"): "an audit record",
}


def _untranslated(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    skipped: set[ast.AST] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                skipped.add(first.value)  # a docstring
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            text = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if isinstance(parents.get(node), ast.JoinedStr):
                continue
            text = node.value
        else:
            continue
        if node in skipped or not _SENTENCE.search(text) or _VERBATIM.search(text):
            continue
        if not _said_for_people(node, parents):
            continue
        found.append((node.lineno, text))
    return found


def _said_for_people(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    above = parents.get(node)
    while above is not None:
        if isinstance(above, ast.Call):
            func = above.func
            if isinstance(func, ast.Name) and func.id in _TRANSLATING:
                return False
            if isinstance(func, ast.Attribute) and func.attr in _LOGGING and "log" in ast.unparse(func.value):
                return False
        if isinstance(above, ast.FunctionDef) and above.name == "__repr__":
            return False
        above = parents.get(above)
    return True


def _problems() -> list[str]:
    problems = []
    for folder in SCANNED:
        for path in sorted((PACKAGE / folder).rglob("*.py")):
            where = path.relative_to(PACKAGE).as_posix()
            if where in NOT_FOR_PEOPLE:
                continue
            for line, text in _untranslated(path):
                if any(module == where and text.startswith(start) for module, start in ALLOWED):
                    continue
                problems.append(f"{where}:{line}: {text[:90]!r}")
    return problems


def test_every_sentence_below_ui_goes_through_the_catalog() -> None:
    problems = _problems()
    assert not problems, (
        "English for a person that skips the catalog (wrap it in _() with named placeholders, or say "
        "here why it is not for a person):\n" + "\n".join(problems)
    )


def test_every_exception_is_still_needed() -> None:
    # An entry whose text is gone (translated or removed) would hide the next one that matches.
    used = set()
    for folder in SCANNED:
        for path in sorted((PACKAGE / folder).rglob("*.py")):
            where = path.relative_to(PACKAGE).as_posix()
            for _line, text in _untranslated(path):
                used |= {(m, s) for m, s in ALLOWED if m == where and text.startswith(s)}
    assert set(ALLOWED) - used == set()
    assert all((PACKAGE / module).is_file() for module in NOT_FOR_PEOPLE)


def test_the_scan_finds_an_untranslated_sentence(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from epay_desktop.i18n import _\n"
        "import logging\n"
        "log = logging.getLogger(__name__)\n"
        "def f(ref):\n"
        '    """A docstring is not shown to anyone at all."""\n'
        "    log.info('the log is read by whoever debugs %s', ref)\n"
        "    ok = _('The payment {reference} was cancelled.').format(reference=ref)\n"
        "    raise ValueError(f'The payment {ref} was not found here.')\n",
        encoding="utf-8",
    )
    assert _untranslated(sample) == [(8, "The payment  was not found here.")]
