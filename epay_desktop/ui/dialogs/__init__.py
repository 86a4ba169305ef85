"""The dialogs: the cancel confirmation, the recovery notice, a new demo payment, and the register's
dialogs (add payments by reference or CSV, settings with profiles, secrets and Test connection, the
audit log with CSV export, a new payment with a QR code).

Each dialog takes the service object it needs in its constructor and talks to it through a
:class:`~epay_desktop.ui.aio.TaskRunner`; none holds business logic, and none imports the window. The
pure input checks (references, amounts, phone numbers, descriptions) live in :mod:`.inputs` and are
tested on their own.
"""
