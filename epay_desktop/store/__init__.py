"""SQLite persistence (stdlib ``sqlite3``): the payment register, snapshots, the operation journal,
the audit log, profiles.

Belongs here: schema, migrations, queries. May import ``domain`` only. No Qt, no HTTP.
"""
