"""Inference on 784-256-128-10: predict_1 (one row per call, the us/call figure is the
median) and predict_bulk (10k rows per call), softmax probabilities out."""
import pytest

import workloads

# Keyed by id so the JSON params stay plain strings.
SPECS = {s.id: s for s in workloads.predict_specs()}


@pytest.mark.parametrize("impl", ["lepton", "numpy", "torch", "sklearn"])
@pytest.mark.parametrize("spec", list(SPECS))
def test_predict(run_case, spec, impl, threads):
    run_case(SPECS[spec], impl, threads)
