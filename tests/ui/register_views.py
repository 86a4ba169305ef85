"""A register view showing a model, shown and exposed offscreen (for tests of the table's paint)."""

from __future__ import annotations

from typing import Any

from epay_desktop.ui.table.model import PaymentsModel
from epay_desktop.ui.table.view import RegisterView


def shown_view(qtbot: Any, model: PaymentsModel, width: int, height: int) -> RegisterView:
    """A ``RegisterView`` of ``model``'s table at ``width`` x ``height``, shown and exposed."""
    view = RegisterView("Loading…")
    qtbot.addWidget(view)
    view.show_model(model)
    view.show_table()
    view.resize(width, height)
    view.show()
    qtbot.waitExposed(view)
    return view
