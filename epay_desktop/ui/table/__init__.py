"""The payments table: its vocabulary and cell values (``cells``), the model over ``TrackedPayment``
records (``model``), the filter proxy (``proxy``), the painters (``delegates``), the widget that shows
them (``view``) and the one place that applies published changes to the model (``changes``).

Imports nothing here at package level: the window paints before the model is loaded.
"""
