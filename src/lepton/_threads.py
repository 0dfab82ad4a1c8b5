"""Thread-count control: the one place that turns ``n_threads`` into a number.

Precedence: an explicit ``n_threads`` argument, then :func:`set_num_threads`, then OpenMP's
default team size (which honours ``OMP_NUM_THREADS`` and limits set with threadpoolctl).
"""
import os

_user_threads = None
# Set by lepton._dispatch to the selected core's OpenMP query functions.
_omp_max_threads = lambda: 1  # noqa: E731
_omp_num_procs = lambda: os.cpu_count() or 1  # noqa: E731


def set_num_threads(n):
    """Set the number of threads lepton's kernels use by default.

    Parameters
    ----------
    n : int or None
        A positive count, -1 for all processors, or None to follow OpenMP's default
        (``OMP_NUM_THREADS``, threadpoolctl limits).
    """
    global _user_threads
    if n is not None:
        n = _validate(n, "n")
    _user_threads = n


def get_num_threads():
    """Return the number of threads lepton's kernels use when ``n_threads`` is not given."""
    if _user_threads is None:
        return max(1, int(_omp_max_threads()))
    return _user_threads


def _validate(n, name):
    if isinstance(n, bool) or not isinstance(n, (int,)) and not hasattr(n, "__index__"):
        raise TypeError(f"{name} must be an int, -1 or None, got {n!r}")
    n = int(n)
    if n == -1:
        return max(1, int(_omp_num_procs()))
    if n <= 0:
        raise ValueError(f"{name} must be a positive int, -1 (all processors) or None, got {n}")
    return n


def resolve_threads(n_threads=None):
    """Turn an ``n_threads`` argument (None, -1 or k > 0) into a positive thread count."""
    if n_threads is None:
        return get_num_threads()
    return _validate(n_threads, "n_threads")
