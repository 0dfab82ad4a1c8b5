"""lepton.convert: weights from scikit-learn MLPs and PyTorch nn.Sequential (and back)."""
import warnings

import numpy as np
import pytest

from lepton import convert
from lepton.estimators import MLPClassifier, MLPRegressor
from lepton.model import Dense, Dropout, Model

sk_nn = pytest.importorskip("sklearn.neural_network")


def _fit(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return est.fit(X, y)


# ---------------------------------------------------------------------------- scikit-learn
@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic", "identity"])
@pytest.mark.parametrize("target", ["multiclass", "binary", "multilabel"])
def test_from_sklearn_classifier(digits, activation, target):
    X, y = digits
    yy = {"multiclass": y, "binary": np.where(y > 4, "hi", "lo"),
          "multilabel": np.stack([y > 4, y % 2 == 0, y == 1], axis=1).astype(int)}[target]
    sk = _fit(sk_nn.MLPClassifier((20, 12), activation=activation, max_iter=15,
                                  random_state=0), X, yy)
    proba = sk.predict_proba(X)
    model = convert.from_sklearn(sk)
    assert isinstance(model, Model) and model.dtype == np.float64
    out = model.predict(X)
    np.testing.assert_allclose(out if target != "binary" else np.column_stack(
        [1 - out[:, 0], out[:, 0]]), proba, rtol=0, atol=1e-12)
    est = MLPClassifier.from_sklearn(sk)
    np.testing.assert_allclose(est.predict_proba(X), proba, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(est.predict(X), sk.predict(X))
    np.testing.assert_array_equal(est.classes_, sk.classes_)
    assert est.n_iter_ == sk.n_iter_ and est.loss_curve_ == sk.loss_curve_
    assert est.get_params()["hidden_layer_sizes"] == (20, 12)
    # The imported estimator keeps training (partial_fit) like any fitted one.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.partial_fit(X, yy)
    assert est.t_ == sk.t_ + len(X) and len(est.loss_curve_) == sk.n_iter_ + 1


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_from_sklearn_regressor(digits, solver):
    X, y = digits
    Y = np.stack([y, X[:, 20] * 3], axis=1)
    for target in (y.astype(float), Y):
        sk = _fit(sk_nn.MLPRegressor(hidden_layer_sizes=(16,), solver=solver, max_iter=30,
                                     random_state=0), X, target)
        model = convert.from_sklearn(sk)
        np.testing.assert_allclose(model.predict(X), sk.predict(X).reshape(len(X), -1),
                                   rtol=0, atol=1e-12)
        est = MLPRegressor.from_sklearn(sk)
        np.testing.assert_allclose(est.predict(X), sk.predict(X), rtol=0, atol=1e-12)
        assert est.score(X, target) == pytest.approx(sk.score(X, target), abs=1e-12)
        assert est.solver == "adam"  # lbfgs is not available in lepton: continue with adam


def test_from_sklearn_float32_and_errors(digits):
    X, y = digits
    sk = _fit(sk_nn.MLPClassifier((8,), max_iter=5, random_state=0), X, y)
    m32 = convert.from_sklearn(sk, dtype="float32")
    assert m32.dtype == np.float32
    np.testing.assert_allclose(m32.predict(X), sk.predict_proba(X), atol=1e-5)
    sk32 = _fit(sk_nn.MLPClassifier((8,), max_iter=5, random_state=0), X.astype(np.float32), y)
    assert convert.from_sklearn(sk32).dtype == np.float32
    with pytest.raises(ValueError, match="not fitted"):
        convert.from_sklearn(sk_nn.MLPClassifier())
    with pytest.raises(TypeError, match="MLPClassifier or MLPRegressor"):
        convert.from_sklearn(object())
    with pytest.raises(TypeError, match="needs a scikit-learn MLPRegressor"):
        MLPRegressor.from_sklearn(sk)
    poisson = _fit(sk_nn.MLPRegressor(hidden_layer_sizes=(4,), loss="poisson", max_iter=5), X,
                   y.astype(float))
    with pytest.raises(ValueError, match="exp"):
        convert.from_sklearn(poisson)


# ---------------------------------------------------------------------------- PyTorch
ACTS = ["ReLU", "Tanh", "Sigmoid", "LeakyReLU", "ELU", "GELU", "Softplus", "Identity"]


def _torch_act(torch, name):
    nn = torch.nn
    if name == "GELU":
        return nn.GELU(approximate="tanh")
    return getattr(nn, name)()


@pytest.mark.parametrize("act", ACTS)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_from_torch_matches_torch(act, dtype):
    torch = pytest.importorskip("torch")
    nn = torch.nn
    torch.manual_seed(0)
    tdt = torch.float64 if dtype == "float64" else torch.float32
    seq = nn.Sequential(nn.Linear(7, 16), _torch_act(torch, act), nn.Dropout(0.1),
                        nn.Linear(16, 5, bias=False), _torch_act(torch, act),
                        nn.Linear(5, 3), nn.Softmax(dim=-1)).to(tdt).eval()
    X = np.random.RandomState(0).standard_normal((50, 7)).astype(dtype)
    with torch.no_grad():
        expected = seq(torch.from_numpy(X)).numpy()
    model = convert.from_torch(seq, input_dim=7)
    assert model.dtype == np.dtype(dtype)
    tol = 1e-12 if dtype == "float64" else 2e-6
    np.testing.assert_allclose(model.predict(X), expected, rtol=0, atol=tol)
    dense = [layer for layer in model.layers if isinstance(layer, Dense)]
    assert [d.units for d in dense] == [16, 5, 3] and dense[-1].activation == "softmax"
    assert not dense[1].use_bias
    assert any(isinstance(layer, Dropout) and layer.rate == pytest.approx(0.1)
               for layer in model.layers)
    # Round trip: lepton -> torch -> lepton gives the same network.
    back = convert.to_torch(model)
    with torch.no_grad():
        np.testing.assert_allclose(back(torch.from_numpy(X)).numpy(), expected, atol=tol)
    again = convert.from_torch(back)
    assert again.config()["layers"] == model.config()["layers"]
    np.testing.assert_array_equal(again.params, model.params)


@pytest.mark.parametrize("make,act,alpha", [
    (lambda nn: nn.LeakyReLU(0.2), "leaky_relu", 0.2),
    (lambda nn: nn.ELU(alpha=2.0), "elu", 2.0),
])
def test_torch_activation_parameters_round_trip(make, act, alpha):
    torch = pytest.importorskip("torch")
    nn = torch.nn
    torch.manual_seed(2)
    seq = nn.Sequential(nn.Linear(3, 6), make(nn), nn.Linear(6, 2)).double()
    X = np.random.RandomState(2).standard_normal((9, 3)) * 3
    model = convert.from_torch(seq)
    assert model.layers[0].activation == act and model.layers[0].alpha == alpha
    with torch.no_grad():
        want = seq(torch.from_numpy(X)).numpy()
        np.testing.assert_allclose(model.predict(X), want, atol=1e-12)
        np.testing.assert_allclose(convert.to_torch(model)(torch.from_numpy(X)).numpy(), want,
                                   atol=1e-12)


def test_from_torch_nested_and_single_linear():
    torch = pytest.importorskip("torch")
    nn = torch.nn
    torch.manual_seed(1)
    seq = nn.Sequential(nn.Sequential(nn.Linear(3, 4), nn.ReLU()), nn.Identity(),
                        nn.Linear(4, 2)).double()
    X = np.random.RandomState(1).standard_normal((5, 3))
    with torch.no_grad():
        np.testing.assert_allclose(convert.from_torch(seq).predict(X),
                                   seq(torch.from_numpy(X)).numpy(), atol=1e-12)
    lin = nn.Linear(3, 1).double()
    with torch.no_grad():
        np.testing.assert_allclose(convert.from_torch(lin).predict(X),
                                   lin(torch.from_numpy(X)).numpy(), atol=1e-12)


@pytest.mark.parametrize("build, match", [
    (lambda nn: nn.Sequential(nn.Linear(3, 4), nn.Conv1d(1, 1, 1)), "Conv1d"),
    (lambda nn: nn.Sequential(nn.Linear(3, 4), nn.GELU()), "approximate='tanh'"),
    (lambda nn: nn.Sequential(nn.Linear(3, 4), nn.Softmax(dim=0)), "dim"),
    (lambda nn: nn.Sequential(nn.Linear(3, 4), nn.Softmax(dim=-1), nn.Linear(4, 2)),
     "last layer"),
    (lambda nn: nn.Sequential(nn.ReLU(), nn.Linear(3, 4)), "start with a Linear"),
    (lambda nn: nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Tanh()), "two activations"),
    (lambda nn: nn.Sequential(nn.Linear(3, 4), nn.Dropout(0.5), nn.ReLU()), "after the "
                                                                           "activation"),
    (lambda nn: nn.Sequential(nn.Linear(3, 4), nn.Linear(5, 2)), "takes 5 inputs"),
    (lambda nn: nn.Sequential(), "no Linear"),
])
def test_from_torch_errors(build, match):
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError, match=match):
        convert.from_torch(build(torch.nn))
    with pytest.raises(ValueError, match="input_dim is 9"):
        convert.from_torch(torch.nn.Sequential(torch.nn.Linear(3, 4)), input_dim=9)
    with pytest.raises(TypeError, match="nn.Sequential"):
        convert.from_torch(torch.nn.ReLU())


def test_convert_does_not_import_torch_or_sklearn():
    import subprocess
    import sys

    code = ("import sys, lepton.convert, lepton.estimators; "
            "print('torch' in sys.modules, 'sklearn' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.split() == ["False", "False"]
