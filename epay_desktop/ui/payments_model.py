"""The old import path of the payments table's model and proxy, kept only for
``benchmarks/table_scale.py`` (which this change leaves untouched); new code imports
``epay_desktop.ui.table.model`` and ``epay_desktop.ui.table.proxy``. Delete with that benchmark's
two import lines."""

from epay_desktop.ui.table.model import Column, PaymentsModel
from epay_desktop.ui.table.proxy import PaymentsFilterModel

__all__ = ["Column", "PaymentsFilterModel", "PaymentsModel"]
