#!/usr/bin/env python
"""Same-run ratios: lepton and each peer timed in turns, the figures that count.

pytest-benchmark times one test after another, minutes apart on a shared machine; here each
workload alternates lepton and one peer (A B A B ..., after a warm-up, >= 5 rounds) and
reports both medians and the ratio of medians, lepton speed / peer speed (> 1: lepton is
faster), at 1 thread and at all threads.  Subcommands:

  ratios   every workload of BENCHMARKING.md vs NumPy, PyTorch, scikit-learn
  scaling  lepton (and NumPy for gemm) at 1, 2, ... cores: sgemm 1024^3 and train_mnist,
           thread counts alternating in one run
  memory   peak RSS and Python allocations over several epochs, each in a subprocess
  all      the three above

Usage (from the repository root, lepton importable)::

    python bench/compare.py all --json bench/out/compare.json
    python bench/compare.py ratios --workloads train_mnist,predict_1 --peers numpy --rounds 9
    LEPTON_BENCH_QUICK=1 python bench/compare.py all --rounds 3     # tiny sizes, smoke run

OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE slow a current NumPy: if set, this script re-executes
itself without them before NumPy is imported.
"""
import os
import sys

_STALE_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
if __name__ == "__main__" and any(v in os.environ for v in _STALE_ENV):
    _env = {k: v for k, v in os.environ.items() if k not in _STALE_ENV}
    print(f"compare.py: unsetting {', '.join(v for v in _STALE_ENV if v in os.environ)} "
          f"for the benchmark run", file=sys.stderr)
    os.execve(sys.executable, [sys.executable] + sys.argv, _env)

import argparse  # noqa: E402
import datetime  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402

import numpy as np  # noqa: E402

import memory  # noqa: E402
import workloads  # noqa: E402
from peers import Unavailable  # noqa: E402

from lepton.cli._bench import alternate, load_warning, median  # noqa: E402

FAMILIES = {"gemm": ("sgemm", "dgemm"), "train": ("train_mnist", "train_small"),
            "predict": ("predict_1", "predict_bulk"), "estimators": ("fit_digits",)}


def machine_info():
    """What the figures depend on: CPU, cores, load, library versions, BLAS, lepton build."""
    import importlib
    info = {"date_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "host": platform.node(), "platform": platform.platform(),
            "python": platform.python_version(), "cpu": workloads.cpu_model(),
            "cores": workloads.N_CORES, "loadavg": list(os.getloadavg()),
            "quick": workloads.QUICK, "versions": {}}
    for mod in ("lepton", "numpy", "torch", "sklearn", "threadpoolctl"):
        try:
            info["versions"][mod] = importlib.import_module(mod).__version__
        except Exception:  # a missing peer is reported, not an error
            info["versions"][mod] = None
    try:
        from threadpoolctl import threadpool_info
        info["blas"] = [{k: d.get(k) for k in ("internal_api", "version", "architecture",
                                                "threading_layer", "num_threads")}
                        for d in threadpool_info() if d.get("user_api") == "blas"]
    except ImportError:
        info["blas"] = None
    try:
        import io
        import lepton
        buf = io.StringIO()
        lepton.show_config(file=buf)
        info["lepton_config"] = buf.getvalue()
    except Exception as exc:  # the report still has everything else
        info["lepton_config"] = f"unavailable: {exc}"
    return info


def _warn_load(log):
    msg = load_warning(workloads.N_CORES)
    if msg:
        log(f"WARNING: {msg}")
    return msg


# ---------------------------------------------------------------- ratios
def run_ratios(specs, threads, peers, opts, log):
    """Alternate lepton with each peer for every spec and thread count."""
    records, skipped = [], []
    for spec in specs:
        for t in threads:
            try:
                lep = spec.build("lepton", t)
            except Unavailable as exc:
                skipped.append({"what": f"{spec.workload} {spec.label} t={t}", "impl": "lepton",
                                "why": str(exc)})
                log(f"skip {spec.workload} {spec.label} t={t}: {exc}")
                continue
            for peer in [p for p in spec.impls if p != "lepton" and p in peers]:
                try:
                    other = spec.build(peer, t)
                except Unavailable as exc:
                    skipped.append({"what": f"{spec.workload} {spec.label} t={t}",
                                    "impl": peer, "why": str(exc)})
                    log(f"skip {spec.workload} {spec.label} t={t} vs {peer}: {exc}")
                    continue
                s = alternate([("lepton", lep.fn, lep.ctx), (peer, other.fn, other.ctx)],
                              rounds=opts.rounds, warmup=opts.warmup,
                              min_time=opts.min_time, quiet=not opts.no_settle)
                rec = _record(lep, other, s["lepton"], s[peer])
                records.append(rec)
                log(f"{lep.workload:<13}{lep.label:<30} t={t} vs {peer:<8}"
                    f"lepton {rec['lepton_rate']:>10.4g} {lep.unit:<10}{peer} "
                    f"{rec['peer_rate']:>10.4g}  ratio {rec['ratio']:.2f}x")
    return records, skipped


def _record(lep, other, ls, ps):
    lm, pm = median(ls), median(ps)
    return {**lep.info(), "peer": other.impl, "peer_note": other.note,
            "peer_dtype": other.dtype, "rounds": len(ls),
            "lepton_median_s": lm, "peer_median_s": pm,
            "lepton_rate": lep.rate(lm), "peer_rate": other.rate(pm),
            # Same work on both sides: speed ratio = time ratio.
            "ratio": pm / lm, "lepton_samples_s": ls, "peer_samples_s": ps}


# ---------------------------------------------------------------- scaling
def run_scaling(opts, log):
    """Each implementation at 1..cores threads, thread counts alternating in one run."""
    big = workloads.sizes()["gemm_big"]
    counts = list(range(1, workloads.N_CORES + 1))
    jobs = [("sgemm", "lepton",
             lambda t: workloads.gemm_case("lepton", t, "float32", big, big, big, "NN")),
            ("sgemm", "numpy",
             lambda t: workloads.gemm_case("numpy", t, "float32", big, big, big, "NN")),
            ("train_mnist", "lepton",
             lambda t: workloads.train_case("lepton", t, "train_mnist"))]
    records, skipped = [], []
    for wl, impl, build in jobs:
        try:
            cases = {t: build(t) for t in counts}
        except Unavailable as exc:
            skipped.append({"what": f"scaling {wl}", "impl": impl, "why": str(exc)})
            log(f"skip scaling {wl} {impl}: {exc}")
            continue
        s = alternate([(t, c.fn, c.ctx) for t, c in cases.items()], rounds=opts.rounds,
                      warmup=opts.warmup, min_time=opts.min_time, quiet=not opts.no_settle)
        base = median(s[1])
        for t, c in cases.items():
            m = median(s[t])
            records.append({"workload": wl, "label": c.label, "impl": impl, "threads": t,
                            "unit": c.unit, "median_s": m, "rate": c.rate(m),
                            "speedup_vs_1": base / m, "samples_s": s[t]})
            log(f"scaling {wl:<12}{impl:<8}t={t}  {c.rate(m):>10.4g} {c.unit:<10}"
                f"x{base / m:.2f} vs 1 thread")
    return records, skipped


# ---------------------------------------------------------------- memory
def run_memory(opts, log):
    epochs = 3 if workloads.QUICK else opts.epochs
    out = []
    for impl in ("lepton", "numpy", "torch"):
        r = memory.run_child(impl, "train_mnist", epochs=epochs, threads=workloads.N_CORES)
        out.append(r)
        log("memory " + memory.format_result(r))
    return out


# ---------------------------------------------------------------- main
def _select_specs(names):
    specs = workloads.all_specs()
    if not names:
        return specs
    wanted = set()
    for n in names:
        wanted.update(FAMILIES.get(n, (n,)))
    known = {s.workload for s in specs}
    unknown = wanted - known
    if unknown:
        raise SystemExit(f"unknown workload(s) {sorted(unknown)}; expected some of "
                         f"{sorted(known | set(FAMILIES))}")
    return [s for s in specs if s.workload in wanted]


def parse_args(argv=None):
    quick = workloads.QUICK
    head, _, rest = __doc__.partition("\n\n")
    p = argparse.ArgumentParser(description=head, epilog=rest,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("what", nargs="?", default="ratios",
                   choices=("ratios", "scaling", "memory", "all"))
    p.add_argument("--workloads", default="",
                   help="comma list of workloads or families (gemm, train, predict, "
                        "estimators); default: all")
    p.add_argument("--peers", default="numpy,torch,sklearn", help="comma list of peers")
    p.add_argument("--threads", default="",
                   help="comma list of thread counts (default: LEPTON_BENCH_THREADS or 1,all)")
    p.add_argument("--rounds", type=int, default=3 if quick else 7,
                   help="alternating rounds after the warm-up (>= 5 for figures that count)")
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--min-time", type=float, default=0.005 if quick else 0.2,
                   help="seconds per sample; shorter calls repeat inside one sample")
    p.add_argument("--no-settle", action="store_true",
                   help="do not wait for the previous library's spinning threads (OpenBLAS "
                        "spins ~0.1 s after each call) before each sample")
    p.add_argument("--epochs", type=int, default=6, help="epochs for the memory benchmark")
    p.add_argument("--json", default=os.path.join(os.path.dirname(__file__), "out",
                                                  "compare.json"),
                   help="where to write the results (default: bench/out/compare.json)")
    return p.parse_args(argv)


def main(argv=None):
    opts = parse_args(argv)

    def log(msg):
        print(msg, flush=True)

    threads = ([int(t) for t in opts.threads.split(",") if t.strip()] if opts.threads
               else workloads.thread_counts())
    peers = [p.strip() for p in opts.peers.split(",") if p.strip()]
    names = [w.strip() for w in opts.workloads.split(",") if w.strip()]
    if opts.rounds < 5 and not workloads.QUICK:
        log(f"note: {opts.rounds} rounds; BENCHMARKING.md asks for at least 5")
    result = {"kind": "lepton-compare", "format": 1, "machine": machine_info(),
              "settings": {"what": opts.what, "threads": threads, "peers": peers,
                           "rounds": opts.rounds, "warmup": opts.warmup,
                           "min_time_s": opts.min_time, "settle": not opts.no_settle},
              "warnings": [], "ratios": [], "scaling": [], "memory": [], "skipped": []}
    log(f"lepton compare: {opts.what}, threads {threads}, peers {peers}, {opts.rounds} rounds, "
        f"load {os.getloadavg()[0]:.2f} on {workloads.N_CORES} cores"
        + (" (QUICK sizes)" if workloads.QUICK else ""))
    w = _warn_load(log)
    if w:
        result["warnings"].append(w)
    if opts.what in ("ratios", "all"):
        recs, skipped = run_ratios(_select_specs(names), threads, peers, opts, log)
        result["ratios"], result["skipped"] = recs, result["skipped"] + skipped
    if opts.what in ("scaling", "all"):
        recs, skipped = run_scaling(opts, log)
        result["scaling"], result["skipped"] = recs, result["skipped"] + skipped
    if opts.what in ("memory", "all"):
        result["memory"] = run_memory(opts, log)
    result["machine"]["loadavg_end"] = list(os.getloadavg())
    w = _warn_load(log)
    if w:
        result["warnings"].append("at the end: " + w)
    os.makedirs(os.path.dirname(os.path.abspath(opts.json)), exist_ok=True)
    with open(opts.json, "w") as f:
        json.dump(result, f, indent=1, default=_json_default)
    log(f"wrote {opts.json}")
    return result


def _json_default(x):
    if isinstance(x, np.generic):
        return x.item()
    raise TypeError(f"not JSON-serialisable: {type(x).__name__}")


if __name__ == "__main__":
    main()
