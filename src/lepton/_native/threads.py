"""Thread control: the one place that turns ``n_threads`` into a number.

A thin layer over the compiled core (``_native/threads.pxi``), which holds the setting, the
``max(256, processors)`` bound and the fork rule, and which every kernel wrapper asks.

Precedence: an explicit ``n_threads`` argument, then :func:`set_num_threads`, then OpenMP's
default team size (which honours ``OMP_NUM_THREADS`` and limits set with threadpoolctl).

Fork safety: GNU OpenMP (libgomp) is not fork-safe.  A child forked after the parent ran a
parallel region with several threads inherits a thread pool whose threads do not exist, and
its next multi-threaded region waits for them forever.  lepton records when it asks for more
than one thread; in a child forked after that (``os.fork``, ``multiprocessing``'s "fork"
start method) every lepton call runs on one thread.  Results do not change (they are bitwise
identical for any thread count), only the speed.  Processes started with "spawn" or
"forkserver" are unaffected.
"""
from lepton._native.dispatch import core as _core

#: Upper bound of any thread count: ``max(MAX_THREADS_FLOOR, processors)``.  More threads
#: than that only cost memory (each OpenMP thread has its own stack and pack buffers).
MAX_THREADS_FLOOR = _core.MAX_THREADS_FLOOR

set_num_threads = _core.set_num_threads
get_num_threads = _core.get_num_threads
resolve_threads = _core.resolve_threads
validate = _core.validate_threads
user_threads = _core.user_threads
max_threads = _core.max_threads
fork_serial = _core.fork_serial

__all__ = ["MAX_THREADS_FLOOR", "set_num_threads", "get_num_threads", "resolve_threads",
           "validate", "user_threads", "max_threads", "fork_serial"]
