"""Operations started from the window, each one coroutine run by the ``TaskRunner``: cancel (confirm,
send, report), refresh (all, one, the automatic one, fast polling of waiting payments), the recovery
of what a crash left unfinished, and waiting for the calls in flight before closing. Flows never hold
the table model: what an operation changed reaches the view through the desk's change feed
(``ui/table/changes.py``).
"""
