"""``epay-team``: the stateless HTTP service of team mode (agents, roles, money moved on their behalf)
over the services and the team's PostgreSQL store. No Qt. Any number of instances may serve one
database: nothing one instance needs is kept in another's memory.
"""

from __future__ import annotations
