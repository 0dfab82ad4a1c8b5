"""Bad arguments to the kernel wrappers raise a clear TypeError / ValueError, and nothing
(out, w, m, v, x) is written when they do."""
import numpy as np
import pytest

from lepton import kernels as K

F32, F64 = np.float32, np.float64


def ro(a):
    a = np.array(a)
    a.flags.writeable = False
    return a


class Arrays:
    """Fresh operands for one test, plus snapshots to prove nothing was written."""

    def __init__(self, dtype=F64):
        rng = np.random.default_rng(0)
        self.z = rng.standard_normal((6, 4)).astype(dtype)
        self.y = rng.random((6, 4)).astype(dtype)
        self.out = np.full((6, 4), 7.0, dtype)
        self.w = rng.standard_normal(10).astype(dtype)
        self.g = rng.standard_normal(10).astype(dtype)
        self.m = np.full(10, 0.5, dtype)
        self.v = np.full(10, 0.25, dtype)
        self._snap = {k: getattr(self, k).copy() for k in ("z", "y", "out", "w", "g", "m", "v")}

    def untouched(self):
        return all(np.array_equal(getattr(self, k), s) for k, s in self._snap.items())


def check(call, exc, match):
    arr = Arrays()
    with pytest.raises(exc, match=match):
        call(arr)
    assert arr.untouched(), "an operand was written before validation failed"


# ---------------------------------------------------------------- activations
ACT_CASES = {
    "list input": (lambda a: K.activation_forward(a.z.tolist(), "relu"), TypeError,
                   "z must be a numpy.ndarray"),
    "int dtype": (lambda a: K.activation_forward(a.z.astype(int), "relu"), TypeError,
                  "float32 or float64"),
    "object dtype": (lambda a: K.activation_forward(a.z.astype(object), "relu"), TypeError,
                     "float32 or float64"),
    "3-D": (lambda a: K.activation_forward(a.z.reshape(2, 3, 4), "relu"), ValueError,
            "1-D or 2-D"),
    "0-D": (lambda a: K.activation_forward(np.ones(()), "relu"), ValueError,
            "1-D or 2-D"),
    "non-contiguous": (lambda a: K.activation_forward(a.z[:, ::2], "relu"), ValueError,
                       "C-contiguous"),
    "out shape": (lambda a: K.activation_forward(a.z, "relu", out=a.out[:3]), ValueError,
                  r"out has shape \(3, 4\), expected \(6, 4\)"),
    "out dtype": (lambda a: K.activation_forward(a.z.astype(F32), "relu", out=a.out),
                  TypeError, "out has dtype float64, but dtype float32 was expected"),
    "out non-contiguous": (lambda a: K.activation_forward(
        a.z[:, :2], "relu", out=np.asfortranarray(np.ones((6, 2)))), ValueError,
        "C-contiguous"),
    "out read-only": (lambda a: K.activation_forward(a.z, "relu", out=ro(a.out)), ValueError,
                      "read-only"),
    "unknown name": (lambda a: K.activation_forward(a.z, "swish", out=a.out), ValueError,
                     "unknown activation 'swish'; expected one of"),
    "name not str": (lambda a: K.activation_forward(a.z, 3, out=a.out), TypeError,
                     "activation must be a string"),
    "param unused": (lambda a: K.activation_forward(a.z, "relu", out=a.out, param=0.1),
                     ValueError, "takes no param"),
    "param nan": (lambda a: K.activation_forward(a.z, "leaky_relu", out=a.out,
                                                 param=float("nan")), ValueError, "param"),
    "param str": (lambda a: K.activation_forward(a.z, "elu", out=a.out, param="1"),
                  TypeError, "real number"),
    "n_threads 0": (lambda a: K.activation_forward(a.z, "relu", out=a.out, n_threads=0),
                    ValueError, "n_threads must be a positive int"),
    "n_threads str": (lambda a: K.activation_forward(a.z, "relu", out=a.out, n_threads="2"),
                      TypeError, "n_threads must be an int"),
    "bwd shape": (lambda a: K.activation_backward(a.z[:3], None, a.z, "relu", out=a.out),
                  ValueError, "z has shape .* but da has shape"),
    "bwd dtype": (lambda a: K.activation_backward(a.z, a.z.astype(F32), a.z, "tanh",
                                                  out=a.out), TypeError, "a has dtype float32"),
    "bwd needs z": (lambda a: K.activation_backward(None, a.z, a.y, "relu", out=a.out),
                    ValueError, "needs z"),
    "bwd out read-only": (lambda a: K.activation_backward(a.z, None, a.y, "gelu",
                                                          out=ro(a.out)), ValueError,
                          "read-only"),
}


@pytest.mark.parametrize("case", sorted(ACT_CASES))
def test_activation_bad_input(case):
    check(*ACT_CASES[case])


# ---------------------------------------------------------------- losses
def bad(values_at, value):
    def make(a):
        z = a.z.copy()
        z[values_at] = value
        return z
    return make


LOSS_CASES = {
    "1-D z": (lambda a: K.loss_grad(a.z[:, 0].copy(), a.y[:, 0].copy(), "mse", out=a.out),
              ValueError, "reshape"),
    "y shape": (lambda a: K.loss_grad(a.z, a.y[:3], "mse", out=a.out), ValueError,
                "y has shape"),
    "y dtype": (lambda a: K.loss_grad(a.z, a.y.astype(F32), "mse", out=a.out), TypeError,
                "y has dtype float32"),
    "NaN in z": (lambda a: K.loss_grad(bad((1, 2), np.nan)(a), a.y, "mse", out=a.out),
                 ValueError, "Input z contains NaN"),
    "inf in z": (lambda a: K.loss_grad(bad((0, 0), np.inf)(a), a.y, "softmax_cross_entropy",
                                       out=a.out), ValueError, "NaN or infinity"),
    "NaN in y": (lambda a: K.loss_grad(a.z, np.where(a.y > 0.5, np.nan, a.y), "bce",
                                       out=a.out), ValueError, "Input y contains NaN"),
    "sw length": (lambda a: K.loss_grad(a.z, a.y, "mse", sample_weight=np.ones(5), out=a.out),
                  ValueError, "sample_weight has 5 entries, but z has 6 rows"),
    "sw negative": (lambda a: K.loss_grad(a.z, a.y, "mse", sample_weight=-np.ones(6),
                                          out=a.out), ValueError, ">= 0"),
    "sw NaN": (lambda a: K.loss_grad(a.z, a.y, "mse", sample_weight=np.full(6, np.nan),
                                     out=a.out), ValueError, "sample_weight contains NaN"),
    "sw dtype": (lambda a: K.loss_grad(a.z, a.y, "mse", sample_weight=np.ones(6, F32),
                                       out=a.out), TypeError, "sample_weight has dtype"),
    "sw 2-D": (lambda a: K.loss_grad(a.z, a.y, "mse", sample_weight=np.ones((6, 1)),
                                     out=a.out), ValueError, "sample_weight must be 1-D"),
    "param unused": (lambda a: K.loss_grad(a.z, a.y, "mse", param=1.0, out=a.out), ValueError,
                     "takes no param"),
    "huber delta 0": (lambda a: K.loss_grad(a.z, a.y, "huber", param=0.0, out=a.out),
                      ValueError, r"\(0, inf\)"),
    "scale nan": (lambda a: K.loss_grad(a.z, a.y, "mse", scale=float("nan"), out=a.out),
                  ValueError, "scale"),
    "scale str": (lambda a: K.loss_grad(a.z, a.y, "mse", scale="1", out=a.out), TypeError,
                  "scale must be a real number"),
    "grad not bool": (lambda a: K.loss_grad(a.z, a.y, "mse", grad="yes"), TypeError,
                      "grad must be a bool"),
    "out without grad": (lambda a: K.loss_grad(a.z, a.y, "mse", grad=False, out=a.out),
                         ValueError, "grad=False"),
    "out read-only": (lambda a: K.loss_grad(a.z, a.y, "mse", out=ro(a.out)), ValueError,
                      "read-only"),
    "out shape": (lambda a: K.loss_grad(a.z, a.y, "mse", out=a.out[:, :2].copy()),
                  ValueError, "out has shape"),
    "unknown loss": (lambda a: K.loss_grad(a.z, a.y, "hinge", out=a.out), ValueError,
                     "unknown loss 'hinge'"),
}


@pytest.mark.parametrize("case", sorted(LOSS_CASES))
def test_loss_bad_input(case):
    check(*LOSS_CASES[case])


# ---------------------------------------------------------------- reductions
RED_CASES = {
    "col_sum 1-D": (lambda a: K.col_sum(a.w), ValueError, "x must be 2-D"),
    "col_sum out shape": (lambda a: K.col_sum(a.z, out=a.out[0, :3].copy()), ValueError,
                          r"expected \(4,\)"),
    "col_sum out read-only": (lambda a: K.col_sum(a.out[:, :1].copy().T.copy(),
                                                  out=ro(np.zeros(6))), ValueError,
                              "read-only"),
    "col_sum out dtype": (lambda a: K.col_sum(a.z, out=np.zeros(4, F32)), TypeError,
                          "out has dtype float32"),
    "sq_norm int": (lambda a: K.sq_norm(np.arange(4)), TypeError, "float32 or float64"),
    "sq_norm non-contiguous": (lambda a: K.sq_norm(a.z.T), ValueError, "C-contiguous"),
    "sq_norm list": (lambda a: K.sq_norm([1.0, 2.0]), TypeError, "numpy.ndarray"),
}


@pytest.mark.parametrize("case", sorted(RED_CASES))
def test_reduction_bad_input(case):
    check(*RED_CASES[case])


# ---------------------------------------------------------------- optimizer
def step(opt="adam", **kw):
    def call(a):
        args = dict(lr=0.1)
        args.update(kw)
        w = args.pop("w_", a.w)
        g = args.pop("g_", a.g)
        m = args.pop("m_", a.m)
        v = args.pop("v_", a.v)
        return K.optimizer_step(opt, w, g, m, v, **args)
    return call


OPT_CASES = {
    "unknown": (step("rmsprop"), ValueError, "unknown optimizer 'rmsprop'"),
    "lr 0": (step(lr=0.0), ValueError, r"lr must be a real number in \(0, inf\), got 0.0"),
    "lr negative": (step(lr=-1), ValueError, "lr must be"),
    "lr nan": (step(lr=float("nan")), ValueError, "lr must be"),
    "lr inf": (step(lr=float("inf")), ValueError, "lr must be"),
    "lr str": (step(lr="0.1"), TypeError, "lr must be a real number"),
    "momentum 1": (step("momentum", momentum=1.0), ValueError, r"momentum .*\[0, 1\)"),
    "momentum negative": (step("nesterov", momentum=-0.1), ValueError, "momentum"),
    "beta1 1": (step(beta1=1.0), ValueError, "beta1"),
    "beta2 negative": (step(beta2=-0.5), ValueError, "beta2"),
    "eps 0": (step(eps=0.0), ValueError, "eps"),
    "l2 negative": (step(l2=-1e-3), ValueError, "l2"),
    "weight_decay nan": (step(weight_decay=float("nan")), ValueError, "weight_decay"),
    "grad_scale negative": (step(grad_scale=-1.0), ValueError, "grad_scale"),
    "t 0": (step(t=0), ValueError, r"t must be an integer in \[1, "),
    "t float": (step(t=1.5), TypeError, "t must be an integer"),
    "t bool": (step(t=True), TypeError, "t must be an integer"),
    "m missing": (step("momentum", m_=None), ValueError, "needs its state m"),
    "v missing": (step("adamw", v_=None), ValueError, "needs its state v"),
    "g shape": (lambda a: K.optimizer_step("sgd", a.w, a.g[:5], lr=0.1), ValueError,
                "g has shape"),
    "m dtype": (step(m_=np.zeros(10, F32)), TypeError, "m has dtype float32"),
    "w read-only": (lambda a: K.optimizer_step("sgd", ro(a.w), a.g, lr=0.1), ValueError,
                    "w is read-only"),
    "v read-only": (step(v_=ro(np.zeros(10))), ValueError, "v is read-only"),
    "w non-contiguous": (lambda a: K.optimizer_step("sgd", a.z[:, ::2], a.z[:, ::2].copy(),
                                                    lr=0.1), ValueError, "C-contiguous"),
    "is_weight float": (step(is_weight=np.ones(10)), TypeError, "bool or uint8"),
    "is_weight shape": (step(is_weight=np.ones(9, bool)), ValueError, "is_weight has shape"),
    "m is w": (lambda a: K.optimizer_step("momentum", a.w, a.g, a.w, lr=0.1), ValueError,
               "w and m share memory"),
    "g overlaps v": (lambda a: K.optimizer_step("adam", a.w, a.v, a.m, a.v, lr=0.1),
                     ValueError, "g and v share memory"),
    "lr missing": (lambda a: K.optimizer_step("sgd", a.w, a.g), TypeError, "lr"),
}


@pytest.mark.parametrize("case", sorted(OPT_CASES))
def test_optimizer_bad_input(case):
    check(*OPT_CASES[case])


# ---------------------------------------------------------------- dropout
DROP_CASES = {
    "rate 1": (lambda a: K.dropout(a.z, 1.0, seed=0, out=a.out), ValueError,
               r"rate must be a real number in \[0, 1\)"),
    "rate negative": (lambda a: K.dropout(a.z, -0.1, seed=0, out=a.out), ValueError, "rate"),
    "rate nan": (lambda a: K.dropout(a.z, float("nan"), seed=0, out=a.out), ValueError,
                 "rate"),
    "seed negative": (lambda a: K.dropout(a.z, 0.5, seed=-1, out=a.out), ValueError,
                      "seed must be an integer in"),
    "seed too big": (lambda a: K.dropout(a.z, 0.5, seed=2**64, out=a.out), ValueError,
                     "seed"),
    "seed float": (lambda a: K.dropout(a.z, 0.5, seed=1.5, out=a.out), TypeError, "seed"),
    "seed missing": (lambda a: K.dropout(a.z, 0.5, out=a.out), TypeError, "seed"),
    "layer too big": (lambda a: K.dropout(a.z, 0.5, seed=0, layer=2**32, out=a.out),
                      ValueError, "layer"),
    "step negative": (lambda a: K.dropout(a.z, 0.5, seed=0, step=-1, out=a.out), ValueError,
                      "step"),
    "out read-only": (lambda a: K.dropout(a.z, 0.5, seed=0, out=ro(a.out)), ValueError,
                      "read-only"),
    "out dtype": (lambda a: K.dropout(a.z, 0.5, seed=0, out=np.zeros((6, 4), F32)),
                  TypeError, "out has dtype float32"),
    "x int": (lambda a: K.dropout(np.ones(3, int), 0.5, seed=0), TypeError, "float32"),
}


@pytest.mark.parametrize("case", sorted(DROP_CASES))
def test_dropout_bad_input(case):
    check(*DROP_CASES[case])


def test_numpy_scalars_and_ints_are_accepted():
    w, g = np.ones(3), np.ones(3)
    K.optimizer_step("sgd", w, g, lr=np.float32(0.5), t=np.int64(2))
    assert w.tolist() == [0.5, 0.5, 0.5]
    assert K.dropout(np.ones(4), np.float64(0.0), seed=np.uint64(2**63)).tolist() == [1.0] * 4
