"""Analytic gradients of the native kernels vs central finite differences (float64)."""
import numpy as np
import pytest

from lepton import _names, kernels as K

H = 1e-6
RTOL = 1e-7


def away_from_kinks(rng, shape, kinks=(0.0,), margin=0.05, scale=2.0):
    """Random values at least ``margin`` away from every kink (and well inside float range)."""
    x = scale * rng.standard_normal(shape)
    for k in kinks:
        near = np.abs(x - k) < margin
        x[near] = k + np.copysign(margin + np.abs(x[near] - k), x[near] - k)
    return x


@pytest.mark.parametrize("act", sorted(_names.ACTIVATIONS))
def test_activation_backward_matches_finite_differences(act):
    rng = np.random.default_rng(0)
    z = away_from_kinks(rng, (6, 5))
    da = rng.standard_normal(z.shape)
    dz = K.activation_backward(z, K.activation_forward(z, act), da, act)

    def objective(zz):
        return float(np.sum(da * K.activation_forward(zz, act)))

    num = np.empty_like(z)
    for idx in np.ndindex(z.shape):
        zp, zm = z.copy(), z.copy()
        zp[idx] += H
        zm[idx] -= H
        num[idx] = (objective(zp) - objective(zm)) / (2 * H)
    np.testing.assert_allclose(dz, num, rtol=RTOL, atol=1e-8)


@pytest.mark.parametrize("loss", sorted(_names.LOSSES))
@pytest.mark.parametrize("weighted", [False, True])
def test_loss_gradient_matches_finite_differences(loss, weighted):
    rng = np.random.default_rng(1)
    shape = (5, 4)
    if loss == "softmax_cross_entropy":
        y = rng.random(shape)
        y /= y.sum(axis=1, keepdims=True)
        z = 3 * rng.standard_normal(shape)
    elif loss == "binary_cross_entropy":
        y = rng.random(shape)
        z = 3 * rng.standard_normal(shape)
    else:
        y = rng.standard_normal(shape)
        # residuals away from 0 (mae, huber) and from +-delta (huber, delta = 0.7)
        z = y + away_from_kinks(rng, shape, kinks=(0.0, 0.7, -0.7))
    sw = rng.random(shape[0]) * 2 if weighted else None
    param = 0.7 if loss == "huber" else None
    kw = dict(sample_weight=sw, param=param, scale=1.3)
    value, dz = K.loss_grad(z, y, loss, **kw)

    num = np.empty_like(z)
    for idx in np.ndindex(z.shape):
        zp, zm = z.copy(), z.copy()
        zp[idx] += H
        zm[idx] -= H
        num[idx] = (K.loss_grad(zp, y, loss, grad=False, **kw)[0]
                    - K.loss_grad(zm, y, loss, grad=False, **kw)[0]) / (2 * H)
    np.testing.assert_allclose(dz, num, rtol=RTOL, atol=1e-9)
    assert value > 0
