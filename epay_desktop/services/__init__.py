"""Use cases that combine ``api`` and ``store``: track, refresh, cancel with journal, recovery.

Belongs here: orchestration and policy. May import ``api``, ``store`` and ``domain``. No Qt.
"""
