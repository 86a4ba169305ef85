"""How long a register's recent durable commits took, and so whether the disk has proven fast enough for
one to be made on the event loop's thread (``Database.write_durably_now``).

A durable commit (``synchronous = FULL``) waits for the disk: a few hundredths of a millisecond on a
server's disk that acknowledges a flush at once, several milliseconds on many laptops, and at times far
longer on any disk another program is flushing to. On a worker thread that wait costs two thread hops
per commit (a few tenths of a millisecond each on a busy machine); on the loop's thread it stalls
everything else for as long as the disk takes. So the loop's thread is used only while every one of the
last ``needed`` durable commits (made on any thread) took at most ``fast`` seconds from the ``COMMIT``
statement to its return; one slower commit sends the following ones back to the worker thread at once,
until ``needed`` fast ones in a row have been seen there again. Until then nothing is known, and the
worker thread is used. A disk whose flushes take milliseconds never has one made on the loop's thread;
what the rule cannot foresee is a sudden stall of a disk that was fast (another program flushing a lot
at that moment): that stalls the loop once, for as long as it lasts, and no commit after it.

The measure is the commit itself (where SQLite waits for the disk), not the work before it. A commit on a
worker thread beside a busy event loop also waits for the GIL after the disk is done, up to Python's
switch interval (5 ms) or more: such a commit counts as fast when it was fast, and as slow only when it
was slower than ``fast`` plus twice the switch interval; in between it says nothing about the disk.
A commit on the loop's own thread says what the disk took.
"""

from __future__ import annotations

import sys
import time
from collections import deque
from collections.abc import Callable

__all__ = ["FAST_COMMITS_NEEDED", "FAST_COMMIT_SECONDS", "CommitPace"]

# "Well under a millisecond" each: a disk that flushes this fast keeps a commit on the loop's thread far
# inside one frame (16 ms), and a slower one is never used there.
FAST_COMMIT_SECONDS = 0.001
FAST_COMMITS_NEEDED = 8


class CommitPace:
    """The recent durable commits' times (``record``) and what they allow (``proven_fast``). Not locked:
    the register calls ``record`` while it holds its connection, and reading ``proven_fast`` on another
    thread reads one integer."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.perf_counter,
        fast: float = FAST_COMMIT_SECONDS,
        needed: int = FAST_COMMITS_NEEDED,
    ) -> None:
        self.clock = clock
        self.fast = fast
        self.needed = needed
        self.recent: deque[float] = deque(maxlen=needed)
        self._fast_in_a_row = 0

    def record(self, seconds: float, *, beside_others: bool = False) -> None:
        """One durable commit took ``seconds``. ``beside_others``: made on a worker thread, where the
        time may include waiting for the GIL (see the module)."""
        self.recent.append(seconds)
        if seconds <= self.fast:
            self._fast_in_a_row += 1
        elif not beside_others or seconds > self.fast + 2 * sys.getswitchinterval():
            self._fast_in_a_row = 0

    @property
    def proven_fast(self) -> bool:
        """Whether each of the last ``needed`` durable commits took at most ``fast`` seconds."""
        return self._fast_in_a_row >= self.needed
