"""PySide6 lives here and only here: windows, models, delegates, dialogs, the qasync bridge.

May import ``services`` and ``domain`` (and ``api`` types for errors through services). Nothing but
the composition root (``epay_desktop.app``) imports this package. All qasync use is in ``ui/aio.py``.
"""
