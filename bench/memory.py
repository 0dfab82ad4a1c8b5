"""Memory over several training epochs: peak RSS must stay flat, steps must not allocate.

Each measurement runs in a fresh subprocess (``python bench/memory.py --child ...``) because
peak RSS (VmHWM) is a high-water mark for the whole process: only a process that did
nothing else tells what training alone needs.  Per epoch it records VmHWM and VmRSS from
/proc/self/status (``resource.getrusage`` elsewhere), and with tracemalloc the Python-heap
bytes retained (net) and the transient peak; per training step the same two tracemalloc
figures.  tracemalloc sees Python objects and NumPy array data (NumPy reports its
allocations to it) but not lepton's native workspaces or PyTorch's tensors: those show in
RSS.  tracemalloc starts after a warm-up epoch, so one-off workspace allocations count in
the RSS baseline, not as growth.
"""
import json
import os
import resource
import subprocess
import sys
import time
import tracemalloc

import workloads
from peers import Unavailable

# Growth of the high-water mark between the first and last measured epoch that still
# counts as flat: allocator noise, lazily touched pages.
FLAT_KIB = 1024
FLAT_FRACTION = 0.01


def proc_status_kib():
    """(VmHWM, VmRSS) in KiB; getrusage's ru_maxrss (KiB on Linux) where /proc is missing."""
    try:
        vals = {}
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(("VmHWM:", "VmRSS:")):
                    key, rest = line.split(":", 1)
                    vals[key] = int(rest.split()[0])
        return vals["VmHWM"], vals["VmRSS"]
    except (OSError, KeyError, ValueError):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak, None


def measure(impl, workload="train_mnist", epochs=5, threads=1, steps=20, quick=None):
    """Train ``epochs`` epochs in this process and return the per-epoch / per-step figures."""
    case = workloads.train_case(impl, threads, workload, quick=quick)
    out = {"impl": impl, "workload": workload, "label": case.label, "threads": threads,
           "epochs": [], "note": case.note}
    with case.ctx():
        case.fn()  # warm-up epoch: workspaces, caches, thread pools
        hwm0, rss0 = proc_status_kib()
        out["after_warmup"] = {"vmhwm_kib": hwm0, "vmrss_kib": rss0}
        tracemalloc.start()
        for e in range(epochs):
            tracemalloc.reset_peak()
            cur0 = tracemalloc.get_traced_memory()[0]
            t0 = time.perf_counter()
            case.fn()
            dt = time.perf_counter() - t0
            cur1, peak = tracemalloc.get_traced_memory()
            hwm, rss = proc_status_kib()
            out["epochs"].append({"epoch": e + 1, "seconds": dt, "vmhwm_kib": hwm,
                                  "vmrss_kib": rss, "py_net_bytes": cur1 - cur0,
                                  "py_peak_bytes": peak - cur0})
        if case.step is not None:
            nets, peaks = [], []
            for _ in range(steps):
                tracemalloc.reset_peak()
                cur0 = tracemalloc.get_traced_memory()[0]
                case.step()
                cur1, peak = tracemalloc.get_traced_memory()
                nets.append(cur1 - cur0)
                peaks.append(peak - cur0)
            peaks.sort()
            out["step"] = {"steps": steps, "py_net_bytes_per_step": sum(nets) / steps,
                           "py_peak_bytes_median": peaks[steps // 2],
                           "py_peak_bytes_max": peaks[-1]}
        tracemalloc.stop()
    first, last = out["epochs"][0]["vmhwm_kib"], out["epochs"][-1]["vmhwm_kib"]
    out["vmhwm_growth_kib"] = last - first
    out["flat"] = last - first <= max(FLAT_KIB, FLAT_FRACTION * first)
    return out


def run_child(impl, workload="train_mnist", epochs=5, threads=1, quick=None, timeout=900):
    """Run :func:`measure` in a fresh interpreter; returns its dict or {"error": ...}."""
    args = {"impl": impl, "workload": workload, "epochs": epochs, "threads": threads,
            "quick": quick}
    proc = subprocess.run([sys.executable, os.path.abspath(__file__), "--child",
                           json.dumps(args)], capture_output=True, text=True, timeout=timeout)
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        return {"impl": impl, "workload": workload, "threads": threads,
                "error": (proc.stderr.strip().splitlines() or ["no output"])[-1]}
    return json.loads(lines[-1])


def _child(arg):
    args = json.loads(arg)
    try:
        res = measure(**args)
    except Unavailable as exc:
        res = {"impl": args["impl"], "workload": args["workload"], "threads": args["threads"],
               "skipped": str(exc)}
    print(json.dumps(res))


def format_result(r):
    """One or two summary lines for a result dict."""
    head = f"{r['impl']:<8}{r['workload']:<13}t={r['threads']}"
    if "skipped" in r or "error" in r:
        return f"{head}  {'skipped: ' + r['skipped'] if 'skipped' in r else 'ERROR: ' + r['error']}"
    hwm = ", ".join(f"{e['vmhwm_kib'] / 1024:.1f}" for e in r["epochs"])
    net = max(e["py_net_bytes"] for e in r["epochs"])
    line = (f"{head}  peak RSS per epoch (MiB): {hwm}  -> growth {r['vmhwm_growth_kib']} KiB, "
            f"{'flat' if r['flat'] else 'NOT flat'}; max Python heap retained per epoch "
            f"{net} B")
    if "step" in r:
        s = r["step"]
        line += (f"\n{'':<23}per step: Python heap transient {s['py_peak_bytes_median']} B "
                 f"(max {s['py_peak_bytes_max']}), retained {s['py_net_bytes_per_step']:.0f} B")
    return line


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        _child(sys.argv[2])
    else:
        print("usage: python bench/compare.py memory  (this module runs its own children)",
              file=sys.stderr)
        sys.exit(2)
