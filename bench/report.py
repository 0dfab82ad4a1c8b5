#!/usr/bin/env python
"""Turn benchmark JSON into a Markdown report of ratios against the targets, and a bar chart.

Inputs, any mix:
  - compare.py JSON: same-run ratios (alternating rounds), thread scaling, memory.  These
    are the figures that count.
  - pytest-benchmark JSON (``--benchmark-json``): tests ran one after another, so ratios
    taken from it are sequential and marked so; used for a target only when no same-run
    figure exists.

Every ratio is lepton speed / peer speed (> 1: lepton faster), from medians.

Usage::

    python bench/report.py bench/out/compare.json bench/out/pytest.json \\
        --md bench/out/report.md --png bench/out/ratios.png
"""
import argparse
import json
import os
import statistics
import sys
from collections import defaultdict
from dataclasses import dataclass, field

SAME_RUN, SEQUENTIAL = "same run", "sequential"


@dataclass
class Target:
    text: str
    op: str            # ">=" on ratios, "<=" on an absolute lepton figure, "flat" for memory
    threshold: float
    kind: str = "ratio"  # "ratio", "scaling", "absolute", "memory"
    match: dict = field(default_factory=dict)


# The targets of the benchmark issue (ratios are lepton speed / peer speed, same run).
TARGETS = [
    Target("sgemm 1024^3, 1 thread, vs NumPy", ">=", 0.90,
           match=dict(workload="sgemm", cubic=True, threads=1, peer="numpy")),
    Target("sgemm MLP shapes (NN, NT, TN) vs NumPy", ">=", 1.0,
           match=dict(workload="sgemm", cubic=False, peer="numpy")),
    Target("dgemm 1024^3 vs NumPy", ">=", 0.85,
           match=dict(workload="dgemm", cubic=True, peer="numpy")),
    Target("sgemm 1024^3, lepton 2 threads vs 1 thread", ">=", 1.8, kind="scaling",
           match=dict(workload="sgemm", threads=2)),
    Target("train_mnist vs NumPy, 2 threads", ">=", 1.6,
           match=dict(workload="train_mnist", threads=2, peer="numpy")),
    Target("train_mnist vs PyTorch, 2 threads", ">=", 3.0,
           match=dict(workload="train_mnist", threads=2, peer="torch")),
    Target("train_small vs NumPy", ">=", 6.0, match=dict(workload="train_small", peer="numpy")),
    Target("train_small vs PyTorch", ">=", 30.0,
           match=dict(workload="train_small", peer="torch")),
    Target("predict_1 latency (us per call, lepton)", "<=", 10.0, kind="absolute",
           match=dict(workload="predict_1")),
    Target("predict_bulk vs PyTorch", ">=", 2.0,
           match=dict(workload="predict_bulk", peer="torch")),
    Target("peak memory flat across epochs (lepton, train_mnist)", "flat", 0.0,
           kind="memory", match=dict(impl="lepton")),
    Target("MLPClassifier fit on digits vs scikit-learn", ">=", 1.0,
           match=dict(workload="fit_digits", peer="sklearn")),
]


# ---------------------------------------------------------------- loading
def _cubic(label):
    dims = label.split()[0].split("x")
    return len(dims) == 3 and len(set(dims)) == 1


def load(paths):
    """Read the JSON files into {"ratios", "lepton", "scaling", "memory", "skipped", "meta"}."""
    data = {"ratios": [], "lepton": [], "scaling": [], "memory": [], "skipped": [], "meta": []}
    for path in paths:
        with open(path) as f:
            doc = json.load(f)
        if doc.get("kind") == "lepton-compare":
            _load_compare(doc, path, data)
        elif "benchmarks" in doc:
            _load_pytest(doc, path, data)
        else:
            raise SystemExit(f"{path}: neither a compare.py nor a pytest-benchmark JSON file")
    return data


def _load_compare(doc, path, data):
    m = doc.get("machine", {})
    data["meta"].append({"file": path, "source": SAME_RUN, "date": m.get("date_utc"),
                         "cpu": m.get("cpu"), "cores": m.get("cores"),
                         "load": (m.get("loadavg"), m.get("loadavg_end")),
                         "versions": m.get("versions", {}), "quick": m.get("quick"),
                         "rounds": doc.get("settings", {}).get("rounds"),
                         "warnings": doc.get("warnings", [])})
    for r in doc.get("ratios", []):
        data["ratios"].append({**_keys(r), "peer": r["peer"], "lepton_rate": r["lepton_rate"],
                               "peer_rate": r["peer_rate"], "ratio": r["ratio"],
                               "source": SAME_RUN})
        data["lepton"].append({**_keys(r), "rate": r["lepton_rate"], "source": SAME_RUN})
    for r in doc.get("scaling", []):
        data["scaling"].append({**r, "source": SAME_RUN})
    data["memory"] += doc.get("memory", [])
    data["skipped"] += doc.get("skipped", [])


def _keys(r):
    return {"workload": r["workload"], "label": r["label"], "threads": r["threads"],
            "unit": r["unit"], "cubic": _cubic(r["label"])}


def _rate(info, median_s):
    if info["unit"] == "us/call":
        return median_s * 1e6
    return info["work"] / median_s / (1e9 if info["unit"] == "GFLOP/s" else 1.0)


def _load_pytest(doc, path, data):
    mi = doc.get("machine_info", {}).get("lepton_bench", {})
    data["meta"].append({"file": path, "source": SEQUENTIAL, "date": doc.get("datetime"),
                         "cpu": mi.get("cpu"), "cores": mi.get("cores"),
                         "load": (mi.get("loadavg_start"), None),
                         "versions": mi.get("versions", {}), "quick": mi.get("quick"),
                         "rounds": None, "warnings": []})
    groups = defaultdict(dict)
    for b in doc["benchmarks"]:
        info = b.get("extra_info", {})
        if "impl" not in info:
            continue
        groups[(info["workload"], info["label"], info["threads"])][info["impl"]] = (
            b["stats"]["median"], info)
    for (wl, label, t), impls in groups.items():
        if "lepton" not in impls:
            continue
        lm, linfo = impls["lepton"]
        data["lepton"].append({**_keys(linfo), "rate": _rate(linfo, lm), "impl": "lepton",
                               "source": SEQUENTIAL})
        for peer, (pm, pinfo) in impls.items():
            if peer == "lepton":
                continue
            data["ratios"].append({**_keys(linfo), "peer": peer,
                                   "lepton_rate": _rate(linfo, lm),
                                   "peer_rate": _rate(pinfo, pm),
                                   "ratio": pm / lm, "source": SEQUENTIAL})
    # Thread scaling from the lepton gemm entries (sequential): t=n over t=1.
    lep = {(r["workload"], r["label"], r["threads"]): r for r in data["lepton"]
           if r["source"] == SEQUENTIAL and r["unit"] == "GFLOP/s"}
    for (wl, label, t), r in lep.items():
        base = lep.get((wl, label, 1))
        if base and t > 1 and label.endswith("NN") and _cubic(label):
            data["scaling"].append({"workload": wl, "label": label, "impl": "lepton",
                                    "threads": t, "unit": r["unit"], "rate": r["rate"],
                                    "speedup_vs_1": r["rate"] / base["rate"],
                                    "source": SEQUENTIAL})


# ---------------------------------------------------------------- targets
def _matches(row, match):
    return all(row.get(k) == v for k, v in match.items())


def _prefer_same_run(rows):
    same = [r for r in rows if r["source"] == SAME_RUN]
    return same or rows


def evaluate(target, data):
    """(measured text, source, status) for one target; status "met", "NOT met" or "no data"."""
    if target.kind == "memory":
        rows = [r for r in data["memory"] if _matches(r, target.match) and "flat" in r]
        if not rows:
            return "-", "-", "no data"
        bad = [r for r in rows if not r["flat"]]
        growth = max(r["vmhwm_growth_kib"] for r in rows)
        epochs = max(len(r["epochs"]) for r in rows)
        return (f"peak RSS growth {growth} KiB over {epochs} epochs", SAME_RUN,
                "NOT met" if bad else "met")
    if target.kind == "scaling":
        rows = _prefer_same_run([r for r in data["scaling"] if r["impl"] == "lepton"
                                 and _matches(r, target.match)
                                 and _cubic(r.get("label", ""))])
        values = [(r["speedup_vs_1"], r) for r in rows]
    elif target.kind == "absolute":
        rows = _prefer_same_run([r for r in data["lepton"] if _matches(r, target.match)])
        by_t = defaultdict(list)
        for r in rows:
            by_t[(r["threads"], r["source"])].append(r)
        # compare.py measures lepton once per peer: take the median of those medians.
        values = [(statistics.median(x["rate"] for x in rs), rs[0]) for rs in by_t.values()]
    else:
        rows = _prefer_same_run([r for r in data["ratios"] if _matches(r, target.match)])
        values = [(r["ratio"], r) for r in rows]
    if not values:
        return "-", "-", "no data"
    ok = [(v >= target.threshold) if target.op == ">=" else (v <= target.threshold)
          for v, _ in values]
    worst_v, worst = (min if target.op == ">=" else max)(values, key=lambda x: x[0])
    where = f"{worst.get('label', '')} t={worst['threads']}".strip()
    fmt = "{:.1f} us" if target.kind == "absolute" else "{:.2f}x"
    measured = f"worst {fmt.format(worst_v)} ({where})"
    if len(values) > 1:
        measured += f"; {sum(ok)}/{len(ok)} met"
    return measured, worst["source"], "met" if all(ok) else "NOT met"


# ---------------------------------------------------------------- markdown
def _fmt(x):
    if x is None:
        return "-"
    return f"{x:.3g}" if abs(x) < 1000 else f"{x:,.0f}"


def markdown(data, paths):
    out = ["# lepton benchmark report", ""]
    out.append("Ratios are lepton speed / peer speed (> 1: lepton faster), from medians. "
               "*same run*: compare.py, lepton and the peer alternating in one process; "
               "*sequential*: pytest-benchmark, one test after another.")
    out.append("")
    for m in data["meta"]:
        load = m["load"][0]
        load_s = " ".join(f"{x:.2f}" for x in load) if load else "-"
        vers = ", ".join(f"{k} {v}" for k, v in (m["versions"] or {}).items() if v)
        out.append(f"- `{m['file']}` ({m['source']}): {m['date']}, {m['cpu']}, "
                   f"{m['cores']} cores, load {load_s}"
                   + (", QUICK sizes" if m["quick"] else "")
                   + (f", {m['rounds']} rounds" if m["rounds"] else "") + f"; {vers}")
        for w in m["warnings"]:
            out.append(f"  - WARNING: {w}")
    out += ["", "## Targets", "", "| target | wanted | measured | source | status |",
            "|---|---|---|---|---|"]
    for t in TARGETS:
        measured, source, status = evaluate(t, data)
        wanted = ("flat" if t.op == "flat" else
                  f"<= {t.threshold:g} us" if t.kind == "absolute" else f">= {t.threshold:g}x")
        out.append(f"| {t.text} | {wanted} | {measured} | {source} | {status} |")
    for source in (SAME_RUN, SEQUENTIAL):
        rows = [r for r in data["ratios"] if r["source"] == source]
        if not rows:
            continue
        out += ["", f"## Ratios ({source})", "",
                "| workload | case | threads | peer | unit | lepton | peer | ratio |",
                "|---|---|---|---|---|---|---|---|"]
        for r in sorted(rows, key=_order):
            out.append(f"| {r['workload']} | {r['label']} | {r['threads']} | {r['peer']} | "
                       f"{r['unit']} | {_fmt(r['lepton_rate'])} | {_fmt(r['peer_rate'])} | "
                       f"{r['ratio']:.2f}x |")
    if data["scaling"]:
        out += ["", "## Thread scaling", "",
                "| workload | case | impl | threads | figure | unit | vs 1 thread | source |",
                "|---|---|---|---|---|---|---|---|"]
        for r in data["scaling"]:
            out.append(f"| {r['workload']} | {r.get('label', '')} | {r['impl']} | "
                       f"{r['threads']} | {_fmt(r['rate'])} | {r['unit']} | "
                       f"{r['speedup_vs_1']:.2f}x | {r['source']} |")
    if data["memory"]:
        out += ["", "## Memory (train_mnist, one subprocess each)", "",
                "| impl | peak RSS per epoch (MiB) | growth | flat | Python heap retained "
                "per epoch (max) | per step: transient / retained |", "|---|---|---|---|---|---|"]
        for r in data["memory"]:
            if "epochs" not in r:
                out.append(f"| {r['impl']} | {r.get('skipped') or r.get('error')} | | | | |")
                continue
            hwm = ", ".join(f"{e['vmhwm_kib'] / 1024:.1f}" for e in r["epochs"])
            net = max(e["py_net_bytes"] for e in r["epochs"])
            step = r.get("step")
            step_s = (f"{step['py_peak_bytes_median']} B / {step['py_net_bytes_per_step']:.0f} B"
                      if step else "-")
            out.append(f"| {r['impl']} | {hwm} | {r['vmhwm_growth_kib']} KiB | "
                       f"{'yes' if r['flat'] else 'NO'} | {net} B | {step_s} |")
        out.append("")
        out.append("tracemalloc sees Python objects and NumPy array data, not lepton's native "
                   "workspaces or PyTorch tensors (those show in peak RSS).")
    if data["skipped"]:
        out += ["", "## Skipped", ""]
        seen = set()
        for s in data["skipped"]:
            key = (s["impl"], s["why"])
            if key not in seen:
                seen.add(key)
                out.append(f"- {s['impl']}: {s['why']}")
    return "\n".join(out) + "\n"


_WL_ORDER = ["sgemm", "dgemm", "train_mnist", "train_small", "predict_1", "predict_bulk",
             "fit_digits"]


def _order(r):
    wl = _WL_ORDER.index(r["workload"]) if r["workload"] in _WL_ORDER else 99
    return (wl, not r["cubic"], r["label"], r["threads"], r["peer"])


# ---------------------------------------------------------------- chart
def _target_for(row):
    for t in TARGETS:
        if t.kind == "ratio" and _matches(row, t.match):
            return t
    return None


def chart(data, path):
    """Horizontal bars of ratios (same-run where present), log scale, coloured by target."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = _prefer_same_run(list(data["ratios"]))
    if not rows:
        return False
    rows = sorted(rows, key=_order, reverse=True)
    labels, values, colors = [], [], []
    for r in rows:
        t = _target_for(r)
        labels.append(f"{r['workload']} {r['label']} t={r['threads']} vs {r['peer']}")
        values.append(r["ratio"])
        colors.append("#999999" if t is None else
                      "#2a9d5c" if r["ratio"] >= t.threshold else "#d1495b")
    fig, ax = plt.subplots(figsize=(10, 1.2 + 0.22 * len(rows)))
    y = range(len(rows))
    ax.barh(y, values, color=colors)
    for i, r in enumerate(rows):
        t = _target_for(r)
        if t is not None:
            ax.plot([t.threshold] * 2, [i - 0.4, i + 0.4], color="black", lw=1.5)
    ax.axvline(1.0, color="#444444", lw=0.8, ls="--")
    ax.set_xscale("log")
    ax.set_yticks(list(y))
    ax.set_yticklabels(labels, fontsize=7)
    ax.set_xlabel("lepton speed / peer speed (log scale; black tick = target; "
                  "green met, red not met, grey no target)")
    ax.set_title(f"lepton vs peers ({rows[0]['source']})")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("inputs", nargs="+", help="compare.py and/or pytest-benchmark JSON files")
    p.add_argument("--md", help="write the Markdown here (default: print it)")
    p.add_argument("--png", help="write the bar chart here (needs matplotlib)")
    opts = p.parse_args(argv)
    data = load(opts.inputs)
    text = markdown(data, opts.inputs)
    if opts.md:
        os.makedirs(os.path.dirname(os.path.abspath(opts.md)), exist_ok=True)
        with open(opts.md, "w") as f:
            f.write(text)
        print(f"wrote {opts.md}")
    else:
        sys.stdout.write(text)
    if opts.png:
        try:
            made = chart(data, opts.png)
        except ImportError:
            print("matplotlib is not installed: no chart (pip install matplotlib)",
                  file=sys.stderr)
        else:
            print(f"wrote {opts.png}" if made else "no ratios: no chart")


if __name__ == "__main__":
    main()
