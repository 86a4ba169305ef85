"""The old import path of the refresh flow, kept only for ``benchmarks/table_scale.py`` (which this
change leaves untouched; it hands the flow a ``PaymentsModel``, which reads as a ``RegisterRows``); new
code imports ``epay_desktop.ui.flows.refresh``. Delete with that benchmark's import line."""

from epay_desktop.ui.flows.refresh import RefreshFlow

__all__ = ["RefreshFlow"]
