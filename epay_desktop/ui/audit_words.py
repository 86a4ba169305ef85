"""The audit's words in the language in use.

An audit line keeps its action and its result as the words the code writes ("cancel", "succeeded",
"requested"). They are data: the CSV export keeps them as written, the team server writes the same
words, and whatever reads an export matches on them. The windows show them in the language in use
(the audit log, a payment's history in Team mode). A word this version does not know, written by a
newer version or a newer team server, is shown as written: never hidden, never guessed.
"""

from __future__ import annotations

from epay_desktop.i18n import N_, translate

# What was done. Money operations and the register's own changes; the team's accounts and approvals.
ACTIONS: dict[str, str] = {
    "cancel": N_("cancel"),
    "capture": N_("capture"),
    "refund": N_("refund"),
    "create": N_("create"),
    "add": N_("add"),
    "import": N_("import"),
    "remove": N_("remove"),
    "restore": N_("restore"),
    "login": N_("login"),
    "logout": N_("logout"),
    "add agent": N_("add agent"),
    "change agent": N_("change agent"),
    "set limit": N_("set limit"),
    "approval": N_("approval"),
    # The customer's part, played in Demo mode (the sandbox's customer actions).
    "demo approve": N_("customer approved (demo)"),
    "demo reject": N_("customer rejected (demo)"),
    "demo start-authorizing": N_("customer started 3-D Secure (demo)"),
    "demo finish-authorizing": N_("customer finished 3-D Secure (demo)"),
    "demo expire": N_("customer let it expire (demo)"),
}

# How it ended. "requested" is the journal's line for an intent written down before it was sent.
RESULTS: dict[str, str] = {
    "requested": N_("requested"),
    "pending": N_("pending"),
    "succeeded": N_("succeeded"),
    "reconciled": N_("reconciled"),
    "failed": N_("failed"),
    "ok": N_("ok"),
    "partly": N_("partly"),
    "unknown": N_("unknown"),
    "refused": N_("refused"),
    "asked": N_("asked"),
    "approved": N_("approved"),
    "rejected": N_("rejected"),
    "expired": N_("expired"),
    "sent": N_("sent"),
}


def action_text(word: str) -> str:
    """An audit line's action as shown: translated when known, else as written."""
    marked = ACTIONS.get(word)
    return translate(marked) if marked else word


def result_text(word: str) -> str:
    """An audit line's result as shown: translated when known, else as written."""
    marked = RESULTS.get(word)
    return translate(marked) if marked else word


__all__ = ["ACTIONS", "RESULTS", "action_text", "result_text"]
