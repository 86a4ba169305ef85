"""Use cases that combine ``api`` and ``store``: track, refresh, cancel with journal, recovery.

Belongs here: orchestration and policy. May import ``api``, ``store`` and ``domain``. No Qt.
"""

from __future__ import annotations

from epay_desktop.api import redact
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
from epay_desktop.services.errors import (
    ActionNotPossibleError,
    DeskError,
    DeskInputError,
    NotTrackedError,
    OperationPendingError,
    ReadOnlyRegisterError,
    StaleConfirmationError,
)
from epay_desktop.services.importing import CsvImportError
from epay_desktop.services.profiles import (
    DEMO_MERCHANT_CURRENCIES,
    DEMO_PROFILE,
    DEMO_SECRETS,
    Profile,
    ProfileError,
    ProfileKind,
    ProfileSecrets,
    ProfileStore,
    ProfileStoreError,
    SecretStore,
    register_path,
)
from epay_desktop.services.recovery import RESEND_WINDOW
from epay_desktop.services.results import (
    AddReport,
    CancelResult,
    ImportReport,
    OperationResult,
    RecoveryOutcome,
    RecoveryResult,
    RejectedItem,
)
from epay_desktop.store import (
    AuditEntry,
    Intent,
    IntentStatus,
    RegisterDamagedError,
    RegisterError,
    RegisterLockedError,
    RegisterTooNewError,
)

__all__ = [
    "DEMO_MERCHANT_CURRENCIES",
    "DEMO_PROFILE",
    "DEMO_SECRETS",
    "RESEND_WINDOW",
    "ActionNotPossibleError",
    "AddReport",
    "AuditEntry",
    "CancelResult",
    "CsvImportError",
    "DemoControls",
    "DeskError",
    "DeskInputError",
    "ImportReport",
    "Intent",
    "IntentStatus",
    "MissingSecretsError",
    "NotTrackedError",
    "OperationPendingError",
    "OperationResult",
    "PaymentDesk",
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
    "SecretStore",
    "StaleConfirmationError",
    "check_connection",
    "client_for",
    "credentials_for",
    "environment_for",
    "new_reference",
    "redact",
    "register_path",
    "test_connection",
]
