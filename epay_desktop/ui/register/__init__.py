"""The register's dialogs and views: add payments by reference or CSV, settings (profiles, secrets,
Test connection), the audit log with CSV export, and a new payment with a QR code.

Each widget takes the service object it needs in its constructor and talks to it through a
:class:`~epay_desktop.ui.aio.TaskRunner`; none of them holds business logic. The pure input checks
(references, amounts, phone numbers, descriptions) live in :mod:`.inputs` and are tested on their own.
"""

from __future__ import annotations
