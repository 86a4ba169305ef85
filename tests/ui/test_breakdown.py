"""domain.breakdown (added for the aggregate bar; tested here because tests/domain belongs to the lead)."""

from __future__ import annotations

from epay_desktop.domain import State
from epay_desktop.domain.breakdown import breakdown
from tests.ui.factories import payment


def values(p: object) -> dict[str, int]:
    return {name: m.value for name, m in breakdown(p).parts()}  # type: ignore[arg-type]


def test_authorized_partly_captured_refunded_and_cancelled() -> None:
    p = payment(amount=10_000, captured=4_000, refunded=1_000, cancelled=2_000)
    assert values(p) == {
        "captured": 3_000,
        "refunded": 1_000,
        "cancelled": 2_000,
        "reserved": 4_000,
        "awaiting": 0,
    }
    assert breakdown(p).scale == 10_000


def test_created_is_all_awaiting_and_closed_states_reserve_nothing() -> None:
    assert values(payment(amount=500, state=State.CREATED))["awaiting"] == 500
    for state in (State.ABORTED, State.EXPIRED, State.TERMINATED):
        assert sum(values(payment(amount=500, state=state)).values()) == 0


def test_inconsistent_figures_never_go_negative_and_scale_up() -> None:
    p = payment(amount=1_000, authorized=1_000, captured=1_000, cancelled=1_000, refunded=2_000)
    v = values(p)
    assert min(v.values()) >= 0
    assert breakdown(p).scale == sum(v.values()) > 1_000
