"""The built-in ePayment sandbox: a stateful simulator of the real API (Starlette ASGI app + engine).

Belongs here: the routes, the payment engine, the controls under ``/sandbox/v1``, demo data, faults.
May import ``domain`` for shared value types (Money, Currency) only, never its rules, and never
``api``: client and server are two independent readings of the spec, so one cannot hide the
other's bug. No Qt.
"""
