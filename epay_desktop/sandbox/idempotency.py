"""Idempotency for the sandbox's engine: each (msn, reference, operation, Idempotency-Key) gets one
answer, and a repeat of the same request gets that answer again without a second effect (FACTS.md §11).

A repeat with another body is a conflict (the operation's own code: 4010 capture, 4020 create and
cancel, 4151 refund). A refusal (400, 404, 409) is kept too: a rejected request stays rejected for its
key, except the refusals that ask for a retry with the same key (``RETRY_LATER``). The engine calls
``answer`` under its lock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from epay_desktop.sandbox.problems import RETRY_LATER, ProblemError

Answer = tuple[int, Any]
Scope = tuple[str, str, str, str]  # (msn, reference, operation, idempotency key)


@dataclass
class StoredAnswer:
    fingerprint: str
    status: int
    body: Any = None
    problem: ProblemError | None = None


class AnswerStore:
    """The answers given per scope. ``changed(scope)`` is called whenever one is stored (the engine
    notes it, so persistence saves that answer)."""

    def __init__(self, *, changed: Callable[[Scope], None]) -> None:
        self._answers: dict[Scope, StoredAnswer] = {}
        self._changed = changed

    def answer(self, scope: Scope, fp: str, conflict: str, action: Callable[[], Answer]) -> Answer:
        """The stored answer for ``scope`` (or its conflict), else run ``action`` once and keep what
        it answered. ``fp``: the request body's fingerprint."""
        stored = self._answers.get(scope)
        if stored is not None:
            if stored.fingerprint != fp:
                raise ProblemError.of(
                    conflict,
                    f"Idempotency-Key {scope[3]!r} was used for this {scope[2]} with a different body; "
                    "repeat the exact same request or use a new key.",
                )
            if stored.problem is not None:
                raise stored.problem  # a rejected request stays rejected for its key
            return stored.status, stored.body
        try:
            status, body = action()
        except ProblemError as problem:
            if problem.status in (400, 404, 409) and problem.code not in RETRY_LATER:
                self._answers[scope] = StoredAnswer(fp, problem.status, problem=problem)
                self._changed(scope)
            raise
        self._answers[scope] = StoredAnswer(fp, status, body)
        self._changed(scope)
        return status, body

    def clear(self) -> None:
        self._answers.clear()

    def scopes(self) -> list[Scope]:
        return list(self._answers)

    def scope_state(self, scope: Scope) -> dict[str, Any] | None:
        """The answer stored for ``scope`` as JSON-ready data (the sandbox's state file), if any."""
        a = self._answers.get(scope)
        if a is None:
            return None
        return {
            "scope": list(scope),
            "fingerprint": a.fingerprint,
            "status": a.status,
            "body": a.body,
            "problem": None
            if a.problem is None
            else [a.problem.status, a.problem.title, a.problem.detail, a.problem.code],
        }

    def to_state(self) -> list[dict[str, Any]]:
        """The stored answers as JSON-ready data."""
        return [state for scope in self._answers if (state := self.scope_state(scope)) is not None]

    def load_state(self, items: list[dict[str, Any]]) -> None:
        """Add the answers of ``to_state`` data (loading is not a change: ``changed`` is not called)."""
        for item in items:
            problem = item["problem"]
            self._answers[(item["scope"][0], item["scope"][1], item["scope"][2], item["scope"][3])] = (
                StoredAnswer(
                    item["fingerprint"],
                    item["status"],
                    item["body"],
                    None if problem is None else ProblemError(problem[0], problem[1], problem[2], problem[3]),
                )
            )
