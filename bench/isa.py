"""Baseline vs AVX2 vs AVX-512 builds of lepton's kernels, same run.

GEMM: the three modules ``lepton._core_<isa>`` are imported side by side in one process and
their ``gemm`` timed in turns (A B C A B C ...).  train_mnist: the ISA level is chosen at
import, so each round runs one short subprocess per level (``LEPTON_ISA=<level>``), in turns.
Ratios are against the baseline build.  Usage: ``python bench/isa.py [--rounds 5]``.
"""
import argparse
import importlib
import json
import os
import subprocess
import sys

import numpy as np

from lepton._native import dispatch as _dispatch
from lepton.cli._bench import alternate, median

TRAIN = """
import time, numpy as np, lepton
rng = np.random.default_rng(0)
X = rng.standard_normal((8192, 784), dtype=np.float32); y = rng.integers(0, 10, 8192)
m = lepton.Model([lepton.Dense(256, activation="relu"), lepton.Dense(128, activation="relu"),
                  lepton.Dense(10, activation="softmax")], input_dim=784, seed=0)
t = lepton.Trainer(m, loss="softmax_cross_entropy", optimizer="momentum", lr=0.01, n_threads=1)
t.fit(X, y, epochs=1, batch_size=128)
ts = []
for _ in range(3):
    s = time.perf_counter(); t.fit(X, y, epochs=1, batch_size=128); ts.append(time.perf_counter() - s)
print(lepton._isa, 8192 / sorted(ts)[1])
"""


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--json", default=None)
    opts = ap.parse_args(argv)
    levels = [lvl for lvl in reversed(_dispatch.ISA_LEVELS) if lvl in _dispatch.supported]
    mods = {lvl: importlib.import_module(f"lepton._core_{lvl}") for lvl in levels}
    rng = np.random.default_rng(0)
    out = {"levels": levels, "gemm": [], "train_mnist": {}}
    for dt, (m, k, n) in [("float32", (1024, 1024, 1024)), ("float64", (1024, 1024, 1024)),
                          ("float32", (128, 784, 256))]:
        a = rng.standard_normal((m, k)).astype(dt)
        b = rng.standard_normal((k, n)).astype(dt)
        c = np.empty((m, n), dt)
        entries = [(lvl, (lambda f=mods[lvl].gemm: f(a, b, c, n_threads=1)), None)
                   for lvl in levels]
        s = alternate(entries, rounds=opts.rounds, min_time=0.1)
        gf = {lvl: 2 * m * n * k / median(s[lvl]) / 1e9 for lvl in levels}
        row = {"dtype": dt, "shape": f"{m}x{k}x{n}", "gflops": gf,
               "vs_baseline": {lvl: gf[lvl] / gf["baseline"] for lvl in levels}}
        out["gemm"].append(row)
        print(f"gemm {dt} {m}x{k}x{n} 1 thread: " + "  ".join(
            f"{lvl} {gf[lvl]:.1f} GF/s ({row['vs_baseline'][lvl]:.2f}x)" for lvl in levels))
    rates = {lvl: [] for lvl in levels}
    env = {k: v for k, v in os.environ.items() if k != "LEPTON_ISA"}
    for _ in range(opts.rounds):
        for lvl in levels:
            r = subprocess.run([sys.executable, "-c", TRAIN], env=dict(env, LEPTON_ISA=lvl),
                               capture_output=True, text=True, check=True)
            rates[lvl].append(float(r.stdout.split()[1]))
    sps = {lvl: median(rates[lvl]) for lvl in levels}
    out["train_mnist"] = {"samples_s": sps, "vs_baseline": {l: sps[l] / sps["baseline"]
                                                            for l in levels}}
    print("train_mnist 1 thread (samples/s): " + "  ".join(
        f"{lvl} {sps[lvl]:.0f} ({sps[lvl] / sps['baseline']:.2f}x)" for lvl in levels))
    if opts.json:
        with open(opts.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
