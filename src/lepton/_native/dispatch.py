"""Pick the native core built for the best ISA level the running CPU supports.

``core`` is THE compiled core every other module uses (``lepton._core_<isa>``); ``isa`` its
level, ``built`` / ``supported`` the levels this installation has / this CPU runs.
``LEPTON_ISA=baseline|avx2|avx512`` forces a level.  Asking for a level the CPU lacks (or
this build lacks) raises ImportError with a clear message; an illegal instruction is never
executed because the baseline module, compiled for plain x86-64, asks the CPU first.
"""
import importlib
import importlib.util
import os

# Best first.  Bit in lepton_cpu_isa_mask() for each level.
ISA_LEVELS = ("avx512", "avx2", "baseline")
_ISA_BIT = {"baseline": 1, "avx2": 2, "avx512": 4}
_ALIASES = {"avx512": "avx512", "x86-64-v4": "avx512", "avx2": "avx2", "x86-64-v3": "avx2",
            "baseline": "baseline", "sse2": "baseline", "x86-64": "baseline", "generic": "baseline"}


def _import_level(level):
    return importlib.import_module(f"lepton._core_{level}")


def built_levels():
    """ISA levels compiled into this installation, best first."""
    out = []
    for level in ISA_LEVELS:
        try:
            if importlib.util.find_spec(f"lepton._core_{level}") is not None:
                out.append(level)
        except (ImportError, ValueError):
            continue
    return out


def _select():
    try:
        base = _import_level("baseline")
    except ImportError as exc:  # pragma: no cover - broken install
        raise ImportError(
            "lepton's native core is not built. Install lepton with `pip install .` "
            "(or build in place with `python setup.py build_ext --inplace`)."
        ) from exc
    mask = base.cpu_isa_mask()
    built = built_levels()
    supported = [lvl for lvl in built if mask & _ISA_BIT[lvl]]
    forced = os.environ.get("LEPTON_ISA", "").strip().lower()
    if forced and forced != "auto":
        level = _ALIASES.get(forced)
        if level is None:
            raise ImportError(f"LEPTON_ISA={forced!r} is not an ISA level; expected one of "
                              f"'baseline', 'avx2', 'avx512' or 'auto'")
        if level not in built:
            raise ImportError(f"LEPTON_ISA={forced!r}: this lepton build has no '{level}' "
                              f"kernels; built levels: {built}")
        if not mask & _ISA_BIT[level]:
            raise ImportError(f"LEPTON_ISA={forced!r}: this CPU does not support '{level}'; "
                              f"supported levels: {supported}")
    else:
        level = supported[0]
    return (base if level == "baseline" else _import_level(level)), level, built, supported


core, isa, built, supported = _select()
