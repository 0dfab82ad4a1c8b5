"""One training call at a time on one object.

Training mutates shared state (parameters, optimizer moments, the native workspace, epoch
counters), so two threads training the same Model, Trainer or estimator would interleave
their updates.  Each such object gets a re-entrant lock, held for the whole training call:
concurrent calls run one after the other, and the result equals one of the two orders.
Prediction takes no lock and keeps working while a model trains.

The locks live in a weak-keyed table rather than on the objects, so they are never pickled,
copied, cloned or seen by scikit-learn's parameter checks.  A forked child starts with a new
table: a lock held by a parent thread at fork time would otherwise never be released.
"""
import functools
import os
import threading
import weakref

_guard = threading.Lock()
_locks = weakref.WeakKeyDictionary()


def training_lock(obj):
    """The re-entrant lock that serialises training calls on ``obj``."""
    with _guard:
        lock = _locks.get(obj)
        if lock is None:
            lock = _locks[obj] = threading.RLock()
        return lock


def serialised(key=None):
    """Decorator: run the method under ``training_lock(key(self))`` (default: ``self``)."""
    def decorator(method):
        @functools.wraps(method)
        def wrapper(self, *args, **kwargs):
            with training_lock(self if key is None else key(self)):
                return method(self, *args, **kwargs)
        return wrapper
    return decorator


def _after_fork_in_child():
    global _guard, _locks
    _guard = threading.Lock()
    _locks = weakref.WeakKeyDictionary()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
