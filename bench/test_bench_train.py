"""Training throughput, one epoch per call: train_mnist (784-256-128-10, batch 128) and
train_small (64-64-10, batch 32), relu, softmax cross-entropy, SGD momentum 0.9, lr 0.01.

lepton's Trainer.fit vs the plain-NumPy reference (peers.NumpyMLP), PyTorch eager and
scikit-learn's MLPClassifier.partial_fit (one epoch per call, float32).
"""
import pytest

import workloads

# Keyed by id so the JSON params stay plain strings.
SPECS = {s.id: s for s in workloads.train_specs()}


@pytest.mark.parametrize("impl", ["lepton", "numpy", "torch", "sklearn"])
@pytest.mark.parametrize("spec", list(SPECS))
def test_train(run_case, spec, impl, threads):
    run_case(SPECS[spec], impl, threads)
