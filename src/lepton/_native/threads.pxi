# Thread control: the one place that turns ``n_threads`` into a count (GIL side, plus the
# nogil fork handler).  lepton._native.threads re-exports the def functions.
#
# Design:
#   1. Precedence: an explicit ``n_threads`` argument, then set_num_threads, then OpenMP's
#      default team size (which honours OMP_NUM_THREADS and threadpoolctl limits).  -1 means
#      every processor; any count is at most max(MAX_THREADS_FLOOR, processors): more
#      threads only cost memory (each OpenMP thread has its own stack and pack buffers).
#   2. Fork safety: GNU OpenMP (libgomp) is not fork-safe.  A child forked after the parent
#      ran a parallel region with several threads inherits a thread pool whose threads do not
#      exist, and its next multi-threaded region waits for them forever.  The core records
#      when it hands out more than one thread; a pthread_atfork child handler (registered at
#      import) marks a child forked after that, and every call there runs on one thread.
#      Results do not change (they are bitwise identical for any thread count), only the
#      speed.  Processes started with "spawn" or "forkserver" are unaffected.
#   3. The state is C globals of this module (the ISA level lepton._native.dispatch picked),
#      read and written under the GIL; the fork handler only reads and sets two flags.
import operator

cdef extern from "pthread.h" nogil:
    int pthread_atfork(void (*prepare)() noexcept nogil, void (*parent)() noexcept nogil,
                       void (*child)() noexcept nogil)

cdef enum:
    THREADS_FLOOR = 256               # max(THREADS_FLOOR, processors) bounds any count

#: Upper bound of any thread count: ``max(MAX_THREADS_FLOOR, processors)``.
MAX_THREADS_FLOOR = THREADS_FLOOR

cdef int _user_threads = 0            # set_num_threads' count; 0: follow OpenMP's default
cdef bint _threads_started = False    # this process handed out more than one thread
cdef bint _fork_serial = False        # forked after this process (or an ancestor) did


cdef void _after_fork_in_child() noexcept nogil:
    global _fork_serial
    if _threads_started:
        _fork_serial = True


if pthread_atfork(NULL, NULL, _after_fork_in_child) != 0:
    raise ImportError("lepton: pthread_atfork failed; cannot make forked children safe")


cdef int _max_threads() noexcept:
    # omp_get_num_procs asks the kernel for this thread's affinity (a system call): the
    # callers below only need it for counts above THREADS_FLOOR, which any count under the
    # floor is within whatever the processors.
    cdef int procs = lepton_omp_num_procs()
    return procs if procs > THREADS_FLOOR else THREADS_FLOOR


cdef int _granted(int n) noexcept:
    """The count a call really gets: 1 in a child forked after threads started."""
    global _threads_started
    if _fork_serial:
        return 1
    if n > 1:
        _threads_started = True
    return n


cdef int _validate_threads(object n, str name) except -1:
    """``n`` (an int, or -1 for every processor) as a count in [1, max_threads()]."""
    if type(n) is not int:
        if isinstance(n, bool) or not hasattr(n, "__index__"):
            raise TypeError(f"{name} must be an int, -1 or None, got {n!r}")
        n = operator.index(n)
    if 0 < n <= THREADS_FLOOR:
        return n
    if n == -1:
        return max(1, lepton_omp_num_procs())
    top = _max_threads()
    if n <= 0 or n > top:
        raise ValueError(f"{name} must be a positive int up to {top}, -1 (all processors) "
                         f"or None, got {n}")
    return n


cdef int _default_threads() noexcept:
    """set_num_threads' count, else OpenMP's default team size, bounded by max_threads()."""
    cdef int n = _user_threads
    if n == 0:
        n = lepton_omp_max_threads()
        if n > THREADS_FLOOR:
            n = min(n, _max_threads())
        n = max(1, n)
    return _granted(n)


cdef int _resolve_threads(object n_threads) except -1:
    """The thread count of a call: ``n_threads`` (None, -1 or k > 0) resolved and granted."""
    if n_threads is None:
        return _default_threads()
    return _granted(_validate_threads(n_threads, "n_threads"))


def set_num_threads(n):
    """Set the number of threads lepton's kernels use by default.

    Parameters
    ----------
    n : int or None
        A positive count up to ``max(256, processors)``, -1 for all processors, or None to
        follow OpenMP's default (``OMP_NUM_THREADS``, threadpoolctl limits).

    Notes
    -----
    In a process forked after lepton ran on several threads, lepton runs on one thread
    whatever is set here (GNU OpenMP cannot start threads again after such a fork; results
    are the same, only slower).  Use the "spawn" or "forkserver" start method of
    :mod:`multiprocessing` for workers that should use several threads each.
    """
    global _user_threads
    _user_threads = 0 if n is None else _validate_threads(n, "n")


def get_num_threads():
    """Return the number of threads lepton's kernels use when ``n_threads`` is not given."""
    return _default_threads()


def resolve_threads(n_threads=None):
    """Turn an ``n_threads`` argument (None, -1 or k > 0) into a positive thread count."""
    return _resolve_threads(n_threads)


def validate_threads(n, name):
    """``n`` checked to be a positive count up to :func:`max_threads` or -1 (all
    processors), as a count; TypeError / ValueError naming ``name`` otherwise."""
    return _validate_threads(n, name)


def user_threads():
    """The count set with :func:`set_num_threads`, or None (follow OpenMP's default)."""
    return None if _user_threads == 0 else _user_threads


def max_threads():
    """The largest thread count lepton accepts: ``max(256, number of processors)``."""
    return _max_threads()


def fork_serial():
    """True if this process was forked after lepton ran multi-threaded (so it runs serially)."""
    return bool(_fork_serial)
