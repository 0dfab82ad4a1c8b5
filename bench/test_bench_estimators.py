"""lepton.MLPClassifier vs scikit-learn's MLPClassifier: fit on the UCI digits with the same
settings (defaults, hidden (100,), a fixed number of epochs, float32 X)."""
import pytest

import workloads

# Keyed by id so the JSON params stay plain strings.
SPECS = {s.id: s for s in workloads.estimator_specs()}


@pytest.mark.parametrize("impl", ["lepton", "sklearn"])
@pytest.mark.parametrize("spec", list(SPECS))
def test_fit_digits(run_case, spec, impl, threads):
    run_case(SPECS[spec], impl, threads)
