"""Use cases that combine ``api`` and ``store``: track, refresh, cancel with journal, recovery.

Belongs here: orchestration and policy. May import ``api``, ``store`` and ``domain``. No Qt.
"""

from __future__ import annotations

from epay_desktop.services.demo import DemoControls
from epay_desktop.services.desk import PaymentDesk
from epay_desktop.services.profiles import (
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
from epay_desktop.services.results import (
    AddReport,
    CancelResult,
    ImportReport,
    OperationResult,
    RejectedItem,
)

__all__ = [
    "DEMO_PROFILE",
    "DEMO_SECRETS",
    "AddReport",
    "CancelResult",
    "DemoControls",
    "ImportReport",
    "OperationResult",
    "PaymentDesk",
    "Profile",
    "ProfileError",
    "ProfileKind",
    "ProfileSecrets",
    "ProfileStore",
    "ProfileStoreError",
    "RejectedItem",
    "SecretStore",
    "register_path",
]
