"""lepton's native kernels as checked NumPy functions.

Each function validates every argument (type, float32/float64 dtype shared by all operands
including ``out``, ndim, shapes, C-contiguity, writability, finite values where they matter,
hyper-parameter ranges) before it releases the GIL, and writes nothing when validation fails.
All take ``n_threads`` (None follows :func:`lepton.set_num_threads`, -1 uses every processor)
and give bitwise-identical results for any thread count.  :mod:`lepton.ops` holds the plain
NumPy reference of each one.

Functions
---------
gemm(a, b, out=None, *, trans_a=False, trans_b=False, alpha=1.0, beta=0.0, n_threads=None)
    ``out := alpha * op(a) @ op(b) + beta * out``.
activation_forward(z, activation, out=None, *, param=None, n_threads=None)
    ``f(z)`` for identity, sigmoid, tanh, relu, leaky_relu, elu, gelu, softplus, softmax.
activation_backward(z, a, da, activation, out=None, *, param=None, n_threads=None)
    ``da * f'(z)``.
loss_grad(z, y, loss, *, sample_weight=None, param=None, scale=1.0, grad=True, out=None,
          n_threads=None) -> (value, dz or None)
    softmax_cross_entropy, binary_cross_entropy (on logits), mse, mae, huber.
col_sum(x, out=None, *, n_threads=None)
    Column sums (bias gradient).
sq_norm(x, *, n_threads=None) -> float
    Sum of squares (global-norm clipping).
optimizer_step(optimizer, w, g, m=None, v=None, *, is_weight=None, lr, momentum=0.9,
               beta1=0.9, beta2=0.999, eps=1e-8, l2=0.0, weight_decay=0.0, grad_scale=1.0,
               t=1, n_threads=None)
    sgd, momentum, nesterov, adam, adamw, in place.
dropout(x, rate, *, seed, step=0, layer=0, out=None, n_threads=None)
    Inverted dropout with a Philox mask keyed by (seed, step, layer, index).
"""
from lepton._native.dispatch import core as _core

gemm = _core.gemm
activation_forward = _core.activation_forward
activation_backward = _core.activation_backward
# The native module keeps the C kernels under these names, so its wrappers are spelt out.
loss_grad = _core.loss_and_grad
col_sum = _core.column_sum
sq_norm = _core.squared_norm
optimizer_step = _core.optimizer_step
dropout = _core.dropout

__all__ = ["gemm", "activation_forward", "activation_backward", "loss_grad", "col_sum",
           "sq_norm", "optimizer_step", "dropout"]
