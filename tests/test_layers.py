"""The package's import graph points one way: down the layers of CONTRIBUTING.md.

Every ``import`` of a lepton module, at module level or inside a function, is read from the
source with ``ast``; a module may import its own layer or lower ones, never a higher one.
A new module must be given a layer here (the test fails for an unknown module).
"""
import ast
import pathlib

import pytest

SRC = pathlib.Path(__file__).resolve().parents[1] / "src"

# Lowest first.  A name matches a module and its submodules.
LAYERS = [
    ["lepton._native", "lepton._core", "lepton._version", "lepton.exceptions",
     "lepton._validation", "lepton._steps", "lepton._serial", "lepton._io_checks", "lepton._params"],
    ["lepton._names", "lepton.ops", "lepton.kernels", "lepton._data", "lepton._sklcompat",
     "lepton.io", "lepton.metrics", "lepton.datasets", "lepton._testing"],
    ["lepton.model", "lepton.preprocessing", "lepton.convert"],
    ["lepton.engine", "lepton.callbacks", "lepton.schedules"],
    ["lepton.trainer"],
    ["lepton.estimators", "lepton.pipeline"],
    ["lepton"],                     # the public namespace (lepton/__init__.py)
    ["lepton.cli", "lepton.__main__"],
]


def _layer(module):
    best = None
    for i, names in enumerate(LAYERS):
        for name in names:
            if module == name or module.startswith(name + "."):
                if best is None or len(name) > best[1]:
                    best = (i, len(name))
    return None if best is None else best[0]


def _modules():
    for path in sorted((SRC / "lepton").rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        yield ".".join(parts), path


def _imports(module, path):
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "lepton":
                    yield alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "lepton":
                continue
            if target == "lepton":
                # "from lepton import x": a submodule x, or a name of the package itself.
                for alias in node.names:
                    here = SRC / "lepton" / alias.name
                    is_module = here.is_dir() or here.with_suffix(".py").exists()
                    yield f"lepton.{alias.name}" if is_module else "lepton"
            else:
                yield target


def test_every_module_has_a_layer():
    missing = [m for m, _ in _modules() if _layer(m) is None]
    assert not missing, f"give these modules a layer in tests/test_layers.py: {missing}"


@pytest.mark.parametrize("module,path", list(_modules()), ids=lambda x: str(x))
def test_imports_point_down(module, path):
    own = _layer(module)
    up = [t for t in _imports(module, path) if (_layer(t) or 0) > own]
    assert not up, f"{module} (layer {own}) imports higher layers: {up}"
