"""Worker processes that end with their parent.

A ``ProcessPoolExecutor`` worker forked on POSIX inherits both ends of the pool's
pipes, so when the parent is killed (kill -9, a closed terminal) it never sees
end-of-file and would wait forever. Each worker here watches its parent and exits
as soon as it is gone. (Windows workers are spawned, not forked, and see the pipe
close.)
"""

from __future__ import annotations

import gc
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

_POLL_SECONDS = 0.5
# At most this many worker processes by default: past 4, validation's checks in the parent process set
# the pace, and a unit workbook is written in milliseconds.
MAX_DEFAULT_WORKERS = 4


def default_workers() -> int:
    """Worker processes when the user names none: the CPUs this process may run on (its affinity: a
    container's cpuset or ``taskset`` leave fewer than the machine has), at most 4.

    On 2 cores, 1,000 submitted files validate in the least time with 2 workers (3 and 4 only add
    switching), and steps that have few files use none (see ``validate.POOL_MIN_FILES``).
    """
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows: no affinity to ask
        cpus = os.cpu_count() or 1
    return max(1, min(MAX_DEFAULT_WORKERS, cpus))


def process_pool(workers: int) -> ProcessPoolExecutor:
    """A pool whose workers end with this process."""
    return _Pool(workers, initializer=_die_with_parent, initargs=(os.getpid(),))


class _Pool(ProcessPoolExecutor):
    """Objects the parent holds when the pool starts are frozen for the garbage collector while it
    runs: a forked worker's collections would otherwise walk (and copy, page by page) everything it
    inherited, e.g. a year's master with its 台账状态; splitting 1,000 workbooks took 30% longer."""

    def __enter__(self) -> "_Pool":
        gc.freeze()
        return self

    def __exit__(self, *exc: Any) -> Any:
        try:
            return super().__exit__(*exc)
        finally:
            gc.unfreeze()


def _die_with_parent(parent: int) -> None:
    if os.name == "nt":
        return

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(_POLL_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="duban-parent-watch", daemon=True).start()
