"""PaymentDesk: the use cases of one profile's register (track, refresh, cancel with journal, recovery).

Every SQLite call goes through ``asyncio.to_thread`` (the GUI thread never blocks on the disk). Every
cancel, capture and refund is journaled (durably) before it is sent, with its own Idempotency-Key; every
retry reuses that key, also after a crash (``recover_pending``). Success is reported only after the API
confirmed it, directly or through the event log.

The desk is one class built from its parts, one module each:

- ``tracking``: the shared state, the register (load, refresh, add, import) and the audit;
- ``moving``: cancel, capture and refund through the journal, with reconciliation from the event log;
- ``recovery``: intents left without an outcome (``recover_pending``, ``resume_intent``,
  ``abandon_intent``);
- ``creating``: ``create_payment``;
- ``errors``: what the desk refuses with before anything is sent.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from epay_desktop.api import EPaymentClient
from epay_desktop.services.creating import PHONE_PATTERN, USER_FLOWS, CreatingDesk, new_reference
from epay_desktop.services.errors import (
    ActionNotPossibleError,
    DeskError,
    DeskInputError,
    NotTrackedError,
    OperationPendingError,
    ReadOnlyRegisterError,
    StaleConfirmationError,
    said,
)
from epay_desktop.services.moving import ACTION_OF
from epay_desktop.services.profiles import Profile
from epay_desktop.services.recovery import RESEND_WINDOW, RecoveringDesk
from epay_desktop.services.tracking import current_os_user
from epay_desktop.store import Store

if TYPE_CHECKING:
    from epay_desktop.services.demo import DemoControls

__all__ = [
    "ACTION_OF",
    "PHONE_PATTERN",
    "RESEND_WINDOW",
    "USER_FLOWS",
    "ActionNotPossibleError",
    "DeskError",
    "DeskInputError",
    "NotTrackedError",
    "OperationPendingError",
    "PaymentDesk",
    "ReadOnlyRegisterError",
    "StaleConfirmationError",
    "current_os_user",
    "new_reference",
    "said",
]


class PaymentDesk(RecoveringDesk, CreatingDesk):
    """One profile's desk. Open it with ``await PaymentDesk.open(...)``; close it with ``aclose()``
    (the client belongs to the caller and is not closed)."""

    @classmethod
    async def open(
        cls,
        profile: Profile,
        client: EPaymentClient,
        register_path: Path,
        demo: DemoControls | None = None,
        operator: str | None = None,
        *,
        read_only: bool = False,
    ) -> PaymentDesk:
        """Open (or create) the register; raises ``RegisterLockedError``/``RegisterDamagedError``.

        ``read_only=True`` (what to offer after those errors) opens an existing register without
        writing, also when it is damaged (``damage`` says what was found; the list shows the rows that
        can be read) or locked by another program. Reading and refreshing work (refreshed payments are
        not saved); every call that writes or moves money raises ``ReadOnlyRegisterError`` before
        anything is sent."""
        if client.merchant_serial_number != profile.merchant_serial_number:
            raise ValueError(
                f"the client is for serial number {client.merchant_serial_number}, "
                f"the profile for {profile.merchant_serial_number}"
            )
        store = await asyncio.to_thread(Store, register_path, read_only=read_only)
        desk = cls(profile, client, store, demo=demo, operator=operator)
        if demo is not None:
            demo.bind(desk)
            if not read_only:
                await demo.seed_if_first_open()
        return desk

    async def aclose(self) -> None:
        """Wait for the money-moving calls in flight (``drain``), then close the register."""
        await self.drain()
        await self._db(self.store.close)
