"""A wheel built from this checkout installs into a fresh venv and works outside the tree."""
import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.build

ROOT = Path(__file__).resolve().parents[1]

SMOKE = textwrap.dedent("""
    import os, sys
    import numpy as np
    import lepton
    assert "site-packages" in lepton.__file__, lepton.__file__
    rng = np.random.default_rng(0)
    X = rng.standard_normal((256, 8)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(np.int64)
    model = lepton.Model([lepton.Dense(16, activation="relu"),
                          lepton.Dense(2, activation="softmax")], input_dim=8, seed=0)
    trainer = lepton.Trainer(model, optimizer="adam", lr=0.05)
    trainer.fit(X, y, epochs=30, batch_size=32)
    acc = (model.predict(X).argmax(1) == y).mean()
    assert acc > 0.9, acc
    print("isa", lepton._isa, "accuracy", acc)
""")


@pytest.mark.skipif(not (ROOT / "setup.py").exists(), reason="needs the source checkout")
def test_wheel_installs_and_trains_in_fresh_venv(tmp_path):
    if os.environ.get("LEPTON_SKIP_WHEEL_TEST") == "1":
        pytest.skip("LEPTON_SKIP_WHEEL_TEST=1")
    wheels = tmp_path / "wheels"
    # Nothing from the source tree may leak into the venv: no PYTHONPATH, no forced ISA.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "LEPTON_ISA")}
    run = lambda *cmd, **kw: subprocess.run(cmd, capture_output=True, text=True, env=env, **kw)  # noqa: E731
    out = run(sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-w", str(wheels),
              cwd=tmp_path)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    (wheel,) = wheels.glob("lepton-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert any(n.startswith("lepton/_core_baseline") for n in names)
    assert not any(n.endswith((".c", ".pyx")) for n in names)

    venv = tmp_path / "venv"
    out = run(sys.executable, "-m", "venv", str(venv))
    assert out.returncode == 0, out.stderr
    py = venv / "bin" / "python"
    out = run(str(py), "-m", "pip", "install", "-q", str(wheel))
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    out = run(str(py), "-c", SMOKE, cwd=workdir)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "accuracy" in out.stdout
    # The portable level must work from the wheel too.
    out = subprocess.run([str(py), "-c", SMOKE], cwd=workdir, capture_output=True, text=True,
                         env=dict(env, LEPTON_ISA="baseline"))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "isa baseline" in out.stdout
