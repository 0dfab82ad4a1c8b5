"""Fork safety: a child forked after lepton ran on several threads never hangs.

GNU OpenMP cannot start threads again in a child forked after the parent used its thread
pool; lepton runs such a child's kernels on one thread.  Every scenario runs in its own
interpreter under a timeout, so a regression fails the test instead of hanging the suite.
"""
import subprocess
import sys
import textwrap

import pytest

import lepton

pytestmark = pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs fork")

_PRELUDE = textwrap.dedent("""
    import multiprocessing as mp, os, signal, sys, threading
    import numpy as np, lepton
    signal.alarm(50)      # a hang ends the child with SIGALRM instead of never
    rng = np.random.default_rng(0)
    X = rng.standard_normal((3000, 64)).astype(np.float32)
    y = rng.integers(0, 3, 3000)
    A = rng.standard_normal((400, 300)).astype(np.float32)
    model = lepton.Model([lepton.Dense(128, activation="relu"),
                          lepton.Dense(3, activation="softmax")], input_dim=64, seed=0)

    def fit_once(_=None):
        m = lepton.Model([lepton.Dense(32, activation="relu"),
                          lepton.Dense(3, activation="softmax")], input_dim=64, seed=1)
        lepton.Trainer(m, lr=1e-2, seed=1, n_threads=2).fit(X, y, epochs=2, batch_size=64)
        return m.params

    def work(_=None):
        return (lepton.gemm(A, A, trans_b=True, n_threads=2), model.predict(X, n_threads=2),
                fit_once())

    def same(a, b):
        return all(np.array_equal(p, q) for p, q in zip(a, b))

    # The parent runs every kind of call on two threads first: this is what broke forks.
    ref = work()
""")


def _run(body):
    code = _PRELUDE + textwrap.dedent(body)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


@pytest.mark.skipif(not lepton.openmp_enabled(), reason="serial build: nothing to fork-proof")
def test_os_fork_child_runs_predict_fit_gemm():
    out = _run("""
        pid = os.fork()
        if pid == 0:
            signal.alarm(50)   # alarms are not inherited: a hung child ends itself too
            ok = same(work(), ref) and lepton.get_num_threads() == 1
            # A grandchild forked from the (now serial) child works too.
            pid2 = os.fork()
            if pid2 == 0:
                signal.alarm(50)
                os._exit(0 if same(work(), ref) else 3)
            _, st2 = os.waitpid(pid2, 0)
            os._exit(0 if ok and st2 == 0 else 4)
        _, st = os.waitpid(pid, 0)
        print("child status", st)
        assert st == 0, st
        # The parent keeps its threads.
        assert lepton.get_num_threads() >= 1 and same(work(), ref)
    """)
    assert "child status 0" in out


@pytest.mark.skipif(not lepton.openmp_enabled(), reason="serial build: nothing to fork-proof")
def test_fork_pool_predict_fit_gemm_and_estimator():
    _run("""
        clf = lepton.MLPClassifier(hidden_layer_sizes=(64,), max_iter=3, random_state=0,
                                   n_threads=2).fit(X, y)
        proba = clf.predict_proba(X)
        with mp.get_context("fork").Pool(2) as pool:
            out = pool.map_async(model.predict, [X, X]).get(timeout=40)
            assert all(np.array_equal(o, ref[1]) for o in out)
            out = pool.map_async(work, [0, 1]).get(timeout=40)
            assert all(same(o, ref) for o in out)
            out = pool.map_async(clf.predict_proba, [X]).get(timeout=40)
            assert np.array_equal(out[0], proba)
    """)


def test_fork_while_another_thread_trains():
    # A training lock held by a parent thread at fork time must not deadlock the child.
    _run("""
        clf = lepton.MLPClassifier(hidden_layer_sizes=(32,), max_iter=2, random_state=0)
        # Warm up first: a fork while the thread imports a module (NumPy imports lazily)
        # would deadlock the child on Python's import lock, whatever lepton does.
        clf.fit(X[:200], y[:200])
        clf.set_params(max_iter=50)
        t = threading.Thread(target=clf.fit, args=(X, y))
        t.start()
        pid = os.fork()
        if pid == 0:
            signal.alarm(50)
            # The same estimator: its lock was held by a thread that does not exist here.
            clf.set_params(max_iter=2).fit(X[:200], y[:200])
            os._exit(0)
        _, st = os.waitpid(pid, 0)
        t.join()
        assert st == 0, st
    """)
