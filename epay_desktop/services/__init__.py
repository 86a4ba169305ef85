"""Use cases that combine ``api`` and ``store``: track, refresh, cancel with journal, recovery.

Belongs here: orchestration and policy. May import ``api``, ``store`` and ``domain``. No Qt. The desk
(``PaymentDesk``) is composed of parts (see ``desk.py``) and publishes every new snapshot on its
``changes`` feed (``changes.py``); every cancel, capture and refund, the window's and ``epay``'s, goes
through the one journaled-send engine (``engine.py``; ``StandaloneJournal`` for a journal without a
register).

The exports load lazily (module ``__getattr__``): ``from epay_desktop.services import Profile`` imports
``services.profiles`` only, so the window can read the profile before its first paint without loading
httpx, the store or the client. ``TYPE_CHECKING`` imports keep mypy and editors exact.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from epay_desktop import lazy

if TYPE_CHECKING:
    from epay_desktop.api import redact
    from epay_desktop.services.changes import Change, ChangeFeed, ListLoaded, PaymentChanged, PaymentsRemoved
    from epay_desktop.services.connection import (
        MissingSecretsError,
        check_connection,
        client_for,
        credentials_for,
        environment_for,
        test_connection,
    )
    from epay_desktop.services.creating import new_reference
    from epay_desktop.services.demo import DemoControls
    from epay_desktop.services.desk import PaymentDesk
    from epay_desktop.services.engine import REPEAT_WINDOW, RESEND_WINDOW, SendEngine, SendResult
    from epay_desktop.services.errors import (
        ActionNotPossibleError,
        AlreadyPendingError,
        DeskError,
        DeskInputError,
        FinishedMeanwhileError,
        KeyAlreadyUsedError,
        NeedsDecisionError,
        NotTrackedError,
        OperationFinishedError,
        OperationPendingError,
        PendingElsewhereError,
        ReadOnlyRegisterError,
        RepeatNotConfirmedError,
        StaleConfirmationError,
    )
    from epay_desktop.services.importing import CsvImportError
    from epay_desktop.services.profile_store import ProfileStore, ProfileStoreError
    from epay_desktop.services.profiles import (
        DEMO_MERCHANT_CURRENCIES,
        DEMO_PROFILE,
        Profile,
        ProfileError,
        ProfileKind,
        register_path,
    )
    from epay_desktop.services.results import (
        AddReport,
        CancelResult,
        ImportReport,
        OperationResult,
        RecoveryOutcome,
        RecoveryResult,
        RejectedItem,
    )
    from epay_desktop.services.secrets import DEMO_SECRETS, ProfileSecrets, SecretStore
    from epay_desktop.services.standalone import StandaloneJournal
    from epay_desktop.services.surface import DeskSurface
    from epay_desktop.services.team_login import LoginNeededError
    from epay_desktop.store import (
        AuditEntry,
        Intent,
        IntentStatus,
        NotARegisterError,
        Operation,
        RegisterDamagedError,
        RegisterError,
        RegisterLockedError,
        RegisterTooNewError,
    )

_EXPORTS: dict[str, str] = {
    "AlreadyPendingError": "epay_desktop.services.errors",
    "FinishedMeanwhileError": "epay_desktop.services.errors",
    "KeyAlreadyUsedError": "epay_desktop.services.errors",
    "NeedsDecisionError": "epay_desktop.services.errors",
    "Operation": "epay_desktop.store",
    "SendEngine": "epay_desktop.services.engine",
    "SendResult": "epay_desktop.services.engine",
    "StandaloneJournal": "epay_desktop.services.standalone",
    "ActionNotPossibleError": "epay_desktop.services.errors",
    "AddReport": "epay_desktop.services.results",
    "AuditEntry": "epay_desktop.store",
    "CancelResult": "epay_desktop.services.results",
    "Change": "epay_desktop.services.changes",
    "ChangeFeed": "epay_desktop.services.changes",
    "ListLoaded": "epay_desktop.services.changes",
    "CsvImportError": "epay_desktop.services.importing",
    "DEMO_MERCHANT_CURRENCIES": "epay_desktop.services.profiles",
    "DEMO_PROFILE": "epay_desktop.services.profiles",
    "DEMO_SECRETS": "epay_desktop.services.secrets",
    "DemoControls": "epay_desktop.services.demo",
    "DeskError": "epay_desktop.services.errors",
    "DeskInputError": "epay_desktop.services.errors",
    "ImportReport": "epay_desktop.services.results",
    "Intent": "epay_desktop.store",
    "IntentStatus": "epay_desktop.store",
    "MissingSecretsError": "epay_desktop.services.connection",
    "NotTrackedError": "epay_desktop.services.errors",
    "OperationFinishedError": "epay_desktop.services.errors",
    "OperationPendingError": "epay_desktop.services.errors",
    "PendingElsewhereError": "epay_desktop.services.errors",
    "OperationResult": "epay_desktop.services.results",
    "PaymentChanged": "epay_desktop.services.changes",
    "PaymentDesk": "epay_desktop.services.desk",
    "DeskSurface": "epay_desktop.services.surface",
    "LoginNeededError": "epay_desktop.services.team_login",
    "Profile": "epay_desktop.services.profiles",
    "ProfileError": "epay_desktop.services.profiles",
    "ProfileKind": "epay_desktop.services.profiles",
    "ProfileSecrets": "epay_desktop.services.secrets",
    "ProfileStore": "epay_desktop.services.profile_store",
    "ProfileStoreError": "epay_desktop.services.profile_store",
    "PaymentsRemoved": "epay_desktop.services.changes",
    "REPEAT_WINDOW": "epay_desktop.services.engine",
    "RESEND_WINDOW": "epay_desktop.services.engine",
    "ReadOnlyRegisterError": "epay_desktop.services.errors",
    "RepeatNotConfirmedError": "epay_desktop.services.errors",
    "NotARegisterError": "epay_desktop.store",
    "RecoveryOutcome": "epay_desktop.services.results",
    "RecoveryResult": "epay_desktop.services.results",
    "RegisterDamagedError": "epay_desktop.store",
    "RegisterError": "epay_desktop.store",
    "RegisterLockedError": "epay_desktop.store",
    "RegisterTooNewError": "epay_desktop.store",
    "RejectedItem": "epay_desktop.services.results",
    "SecretStore": "epay_desktop.services.secrets",
    "StaleConfirmationError": "epay_desktop.services.errors",
    "check_connection": "epay_desktop.services.connection",
    "client_for": "epay_desktop.services.connection",
    "credentials_for": "epay_desktop.services.connection",
    "environment_for": "epay_desktop.services.connection",
    "new_reference": "epay_desktop.services.creating",
    "redact": "epay_desktop.api",
    "register_path": "epay_desktop.services.profiles",
    "test_connection": "epay_desktop.services.connection",
}

__all__ = [
    "DEMO_MERCHANT_CURRENCIES",
    "DEMO_PROFILE",
    "DEMO_SECRETS",
    "REPEAT_WINDOW",
    "RESEND_WINDOW",
    "ActionNotPossibleError",
    "AddReport",
    "AlreadyPendingError",
    "AuditEntry",
    "CancelResult",
    "Change",
    "ChangeFeed",
    "CsvImportError",
    "DemoControls",
    "DeskError",
    "DeskInputError",
    "DeskSurface",
    "FinishedMeanwhileError",
    "ImportReport",
    "Intent",
    "IntentStatus",
    "KeyAlreadyUsedError",
    "ListLoaded",
    "LoginNeededError",
    "MissingSecretsError",
    "NeedsDecisionError",
    "NotARegisterError",
    "NotTrackedError",
    "Operation",
    "OperationFinishedError",
    "OperationPendingError",
    "OperationResult",
    "PaymentChanged",
    "PaymentDesk",
    "PaymentsRemoved",
    "PendingElsewhereError",
    "Profile",
    "ProfileError",
    "ProfileKind",
    "ProfileSecrets",
    "ProfileStore",
    "ProfileStoreError",
    "ReadOnlyRegisterError",
    "RecoveryOutcome",
    "RecoveryResult",
    "RegisterDamagedError",
    "RegisterError",
    "RegisterLockedError",
    "RegisterTooNewError",
    "RejectedItem",
    "RepeatNotConfirmedError",
    "SecretStore",
    "SendEngine",
    "SendResult",
    "StaleConfirmationError",
    "StandaloneJournal",
    "check_connection",
    "client_for",
    "credentials_for",
    "environment_for",
    "new_reference",
    "redact",
    "register_path",
    "test_connection",
]


__getattr__, __dir__ = lazy.exports(__name__, _EXPORTS, globals())
