"""The peers must do the same work as lepton, or the ratios mean nothing: check the NumPy
reference (``lepton.cli._bench.NumpyMLP``, also used by ``lepton bench``) against PyTorch: same
init, same steps -> same weights.  Correctness only, no timing."""
import numpy as np
import pytest

import peers
import workloads

SIZES = (20, 16, 12, 5)


def _batches(n_steps, batch=8):
    X, y = workloads.synthetic(n_steps * batch, SIZES[0], SIZES[-1], seed=3)
    return [(np.ascontiguousarray(X[i:i + batch]), y[i:i + batch])
            for i in range(0, n_steps * batch, batch)]


def test_reference_matches_torch():
    try:
        tm = peers.TorchMLP(SIZES)
    except peers.Unavailable as exc:
        pytest.skip(str(exc))
    ref = peers.NumpyMLP(SIZES)
    for xb, yb in _batches(5):
        Xt, yt = tm.tensors(xb, yb)
        loss_t = tm.fit_epoch(Xt, yt, batch_size=len(yb), shuffle=False)
        assert ref.step(xb, yb) == pytest.approx(loss_t, rel=1e-5)
    for lin, (W, b) in zip(tm.net[::2], ref.layers):
        np.testing.assert_allclose(lin.weight.detach().numpy().T, W, rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(lin.bias.detach().numpy(), b, rtol=1e-4, atol=1e-6)
    P = ref.predict(xb)
    np.testing.assert_allclose(tm.predict(Xt).numpy(), P, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=1e-5)
