"""GEMM: lepton.gemm vs numpy.matmul (OpenBLAS) vs torch.matmul, GFLOP/s = 2mnk / time.

sgemm and dgemm at 1024^3 and sgemm at the MLP shapes, each NN / NT / TN; the label is
M x K x N with op(a) M x K and op(b) K x N, so only the stored layout changes.
"""
import pytest

import workloads

# Keyed by id so the JSON params stay plain strings.
SPECS = {s.id: s for s in workloads.gemm_specs()}


@pytest.mark.parametrize("impl", ["lepton", "numpy", "torch"])
@pytest.mark.parametrize("spec", list(SPECS))
def test_gemm(run_case, spec, impl, threads):
    run_case(SPECS[spec], impl, threads)
