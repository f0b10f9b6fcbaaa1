"""Benchmark harness: tinygrad_ng against the course's hand-written NumPy (the floor) and,
when installed, PyTorch CPU and MyGrad.

    python benchmarks/harness.py                      # full run (a few minutes), table + JSON
    python benchmarks/harness.py --quick              # smoke run: tiny sizes, 1 repeat
    python benchmarks/harness.py --workloads W1,W2 --engines numpy,tinygrad_ng --repeats 5
    python benchmarks/harness.py --profile W2         # cProfile top 10 of tinygrad_ng on W2

How it measures (see ``workloads.py`` for the workloads themselves):

- Each engine runs in its own worker process, started once, with BLAS pinned to
  ``--threads`` threads (OPENBLAS/OMP/MKL_NUM_THREADS; PyTorch's ``set_num_threads``) for
  every engine alike.
- Within a worker, a workload that is quick to run is run several times and the FASTEST
  time kept (timeit's rule: on a shared machine, slower runs measure the other processes);
  the median is kept in the JSON too. Long workloads (W3-1M, W4, W6) run once per repeat.
- Repeats are interleaved: for each workload, repeat r runs every engine once, in an order
  rotated by r, so an engine and the NumPy floor are measured seconds apart, under the same
  load. Ratios are computed pair by pair (engine_r ÷ numpy_r) and their median reported, which
  cancels most of the drift of a busy machine; absolute times are medians too.
- The same data, initial weights and mini-batch order go to every engine, so their costs,
  accuracies and gradients must agree: the "checks" table shows them.

Speed is never asserted here; the table lists the targets of issue 8 and whether they are met.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import importlib
import importlib.util
import io
import json
import math
import os
import platform
import pstats
import resource
import statistics
import subprocess
import sys
import time
import traceback
import tracemalloc
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import workloads as wl
import workloads_charlm as w9
import workloads_cnn as cnn  # W7, W8: convolutional networks (issue 17)

HERE = Path(__file__).resolve().parent

#: engine name → (its workload module, the package it needs). Order = table column order.
ENGINES: dict[str, tuple[str, str]] = {
    "numpy": ("workloads_numpy", "numpy"),
    "tinygrad_ng": ("workloads_tinygrad", "tinygrad_ng"),
    "tinygrad_ng_jit": ("workloads_tinygrad_jit", "tinygrad_ng"),  # the same, via tg.jit
    "torch": ("workloads_torch", "torch"),
    "mygrad": ("workloads_mygrad", "mygrad"),
}
FLOOR = "numpy"
WORKLOADS = ("W1", "W2", "W3", "W3-1M", "W4", "W5", "W6", *cnn.WORKLOADS, "W9")
#: Workloads too long to repeat or to run on every peer: run once (``--long-repeats``), on
#: the floor and these engines by default (``--long-engines`` overrides).
LONG: dict[str, tuple[str, ...]] = {"W3-1M": ("tinygrad_ng",),
                                    "W6": ("tinygrad_ng", "tinygrad_ng_jit", "torch")}

#: What the table shows per workload: (metric, unit, is_cost). Costs (time, memory) get a
#: ratio to the floor; the other metrics are results that every engine should agree on.
METRICS: dict[str, list[tuple[str, str, bool]]] = {
    "W1": [("step_ms", "ms/step", True), ("loss", "loss after the steps", False),
           ("step_over_blas", "step ÷ its 8 matrix products alone", True)],
    "W2": [("us_per_op", "µs/op, fwd+bwd", True), ("fwd_us_per_op", "µs/op, fwd", True),
           ("bwd_us_per_op", "µs/op, bwd", True), ("grad_mean", "mean ∂out/∂x0", False)],
    "W3": [("total_s", "s, fwd+bwd", True), ("forward_s", "s, fwd", True),
           ("backward_s", "s, bwd", True), ("grad_mean", "∂out/∂x0", False)],
    "W3-1M": [("total_s", "s, fwd+bwd", True), ("forward_s", "s, fwd", True),
              ("backward_s", "s, bwd", True), ("peak_rss_mib", "MiB, worker's peak RSS", True),
              ("grad_mean", "∂out/∂x0", False)],
    "W4": [("train_s", "s, train + eval", True), ("accuracy", "test accuracy", False),
           ("final_cost", "cost, last epoch", False)],
    "W5": [("peak_mib", "MiB peak", True)],
    "W6": [("train_s", "s, train + eval", True), ("accuracy", "train accuracy", False),
           ("final_cost", "cost, last epoch", False)],
    **cnn.METRICS,
    "W9": w9.METRICS,
}

#: Targets of issue 8 for tinygrad_ng: (workload, metric, against, threshold, text);
#: ``against`` is an engine (ratio to it) or None (an absolute bound in the metric's unit).
TARGETS = [
    ("W1", "step_ms", "numpy", 0.75, "W1 step ≤ 0.75× NumPy"),
    ("W2", "us_per_op", "numpy", 2.0, "W2 per op ≤ 2× NumPy"),
    ("W3", "total_s", "numpy", 40.0, "W3 chain fwd+bwd ≤ 40× NumPy"),
    ("W3-1M", "backward_s", None, 3.0, "W3 backward of the long chain ≤ 3 s"),
    ("W4", "train_s", "numpy", 1.2, "W4 ≤ 1.2× NumPy"),
    ("W5", "peak_mib", "numpy", 1.25, "W5 peak memory ≤ 1.25× NumPy"),
    ("W6", "train_s", "torch", 0.5, "W6 ≤ 0.5× PyTorch"),
    *cnn.TARGETS,
    *w9.TARGETS,
]
for _size, _configs in cnn.CONFIGS.items():
    wl.CONFIGS[_size].update(_configs)
wl.DESCRIPTIONS.update(cnn.DESCRIPTIONS)

#: Targets of issue 19 for the compiled steps (engine ``tinygrad_ng_jit``).
JIT_TARGETS = [
    ("W1", "step_over_blas", None, 1.1, "W1 step ≤ 1.1× its 8 matrix products alone"),
    ("W2", "us_per_op", "numpy", 1.5, "W2 per op ≤ 1.5× NumPy"),
    ("W4", "train_s", "numpy", 0.9, "W4 ≤ 0.9× NumPy"),
    ("W6", "train_s", "numpy", 1.0, "W6 ≤ 1.0× NumPy"),
]


# ============================================================================ worker side
#: Collect garbage before each timed region, so that no run pays for the previous one's
#: (switched off under --profile, where it would only add noise to the listing).
COLLECT_BETWEEN_RUNS = True


def _settle() -> None:
    if COLLECT_BETWEEN_RUNS:
        gc.collect()


def _peak_rss_mib() -> float:
    """The worker's peak resident memory so far (its high-water mark, never lowered)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def _time_runs(fn, warmup: int, runs: int) -> tuple[list[float], Any]:
    """Wall times of ``runs`` calls of ``fn()`` after ``warmup`` calls, and the last result."""
    for _ in range(warmup):
        fn()
    _settle()
    times, result = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return times, result


def measure_mlp_step(eng, cfg: dict, seed: int) -> dict:
    """W1: one SGD step (forward, backward, update) on a fixed batch."""
    X, y = wl.mlp_batch(cfg["sizes"], cfg["batch"], seed)
    net = eng.make_net(wl.init_params(cfg["sizes"], seed), "softmax", "sgd", cfg["lr"])
    data = eng.batch(X, y, "softmax")
    times, loss = _time_runs(lambda: net.step(data), cfg["warmup"], cfg["steps"])
    blas = _blas_only_ms(cfg, X)
    return {"step_ms": min(times) * 1e3, "step_ms_median": statistics.median(times) * 1e3,
            "loss": loss, "blas_ms": blas, "step_over_blas": min(times) * 1e3 / blas}


def _blas_only_ms(cfg: dict, X: np.ndarray) -> float:
    """The fastest time of W1's eight matrix products alone (forward X·W1ᵀ, A1·W2ᵀ, A2·W3ᵀ;
    backward dZ·W and dZᵀ·A of each layer but the input's dX), measured in the same worker:
    the physical limit of any engine calling the same BLAS for this step."""
    sizes = cfg["sizes"]
    Ws = [np.ones((n_out, n_in), np.float32) for n_in, n_out in zip(sizes[:-1], sizes[1:])]
    acts = [X] + [np.ones((len(X), n), np.float32) for n in sizes[1:-1]]
    dZs = [np.ones((len(X), n), np.float32) for n in sizes[1:]]

    def products() -> None:
        for A, W in zip(acts, Ws):
            A @ W.T
        for l, (A, dZ) in enumerate(zip(acts, dZs)):
            dZ.T @ A
            if l:
                dZ @ Ws[l]

    times, _ = _time_runs(products, cfg["warmup"], cfg["steps"])
    return min(times) * 1e3


def measure_peak_memory(eng, cfg: dict, seed: int) -> dict:
    """W5: the peak of memory allocated during one W1 step (after a first step), by tracemalloc."""
    if not getattr(eng, "TRACEMALLOC", True):
        return {"skipped": "allocations invisible to tracemalloc"}
    X, y = wl.mlp_batch(cfg["sizes"], cfg["batch"], seed)
    net = eng.make_net(wl.init_params(cfg["sizes"], seed), "softmax", "sgd", cfg["lr"])
    data = eng.batch(X, y, "softmax")
    net.step(data)
    _settle()
    tracemalloc.start()
    try:
        net.step(data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return {"peak_mib": peak / 2**20}


def measure_chain(eng, cfg: dict, seed: int) -> dict:
    """W2/W3: the op chain; forward and backward timed apart, the fastest of ``runs``."""
    shape = tuple(cfg.get("shape", ()))
    x0 = np.random.default_rng(seed).uniform(0.5, 1.5, size=shape).astype(np.float32)
    forward, backward = eng.op_chain(x0, cfg["n_ops"])
    for _ in range(cfg["warmup"]):
        backward(forward())
    fwd, bwd = [], []
    for _ in range(cfg["runs"]):
        _settle()
        t0 = time.perf_counter()
        handle = forward()
        t1 = time.perf_counter()
        grad = backward(handle)
        t2 = time.perf_counter()
        del handle
        fwd.append(t1 - t0)
        bwd.append(t2 - t1)
    n, total = cfg["n_ops"], [x + y for x, y in zip(fwd, bwd)]
    return {"forward_s": min(fwd), "backward_s": min(bwd), "total_s": min(total),
            "fwd_us_per_op": min(fwd) / n * 1e6, "bwd_us_per_op": min(bwd) / n * 1e6,
            "us_per_op": min(total) / n * 1e6,
            "us_per_op_median": statistics.median(total) / n * 1e6,
            "grad_mean": float(np.mean(grad)), "peak_rss_mib": _peak_rss_mib()}


def _train(eng, cfg: dict, seed: int, output: str, data: tuple[np.ndarray, ...]) -> dict:
    """W4/W6: Adam on shuffled mini-batches for ``epochs`` epochs, then accuracy; all timed."""
    X, y, X_eval, y_eval = data
    t0 = time.perf_counter()
    net = eng.make_net(wl.init_params(cfg["sizes"], seed), output, "adam", cfg["lr"])
    batches = eng.loader(X, y, output, cfg["batch"], seed)
    cost = math.nan
    for _ in range(cfg["epochs"]):
        costs = [net.step(b) for b in batches]
        cost = sum(costs) / len(costs)
    accuracy = float(np.mean(net.predict(X_eval) == y_eval))
    return {"train_s": time.perf_counter() - t0, "accuracy": accuracy, "final_cost": cost}


def measure_digits(eng, cfg: dict, seed: int) -> dict:
    """W4: scikit-learn's digits, softmax classifier; accuracy on the held-out 20 %."""
    if importlib.util.find_spec("sklearn") is None:
        return {"skipped": "scikit-learn is not installed"}
    return _train(eng, cfg, seed, "softmax", wl.digits(seed))


def measure_moons(eng, cfg: dict, seed: int) -> dict:
    """W6: the course's optimisation experiment on moons; accuracy on the training set."""
    X, y = wl.moons(cfg["n"], cfg["noise"], seed)
    return _train(eng, cfg, seed, "sigmoid", (X, y, X, y))


MEASURE = {"W1": measure_mlp_step, "W2": measure_chain, "W3": measure_chain,
           "W3-1M": measure_chain, "W4": measure_digits, "W5": measure_peak_memory,
           "W6": measure_moons,
           "W9": lambda eng, cfg, seed: w9.measure(eng, cfg, seed, _time_runs),
           **{w: lambda eng, cfg, seed, w=w: cnn.measure(eng, cfg, seed, w)
              for w in cnn.WORKLOADS}}


def worker(engine: str, threads: int) -> None:
    """Serve requests (one JSON line each) on stdin, answer one JSON line each on stdout."""
    out = sys.stdout
    sys.stdout = sys.stderr  # anything an engine prints must not corrupt the protocol
    eng = importlib.import_module(ENGINES[engine][0])
    eng.configure(threads)
    out.write(json.dumps({"engine": engine, "version": eng.version()}) + "\n")
    out.flush()
    for line in sys.stdin:
        req = json.loads(line)
        try:
            measure = MEASURE[req["workload"]]
            args = (eng, req["config"], req["seed"])
            if req.get("profile"):
                global COLLECT_BETWEEN_RUNS
                COLLECT_BETWEEN_RUNS = False
                measure(*args)  # a first, unprofiled call: imports, data, caches
                prof = cProfile.Profile()
                prof.runcall(measure, *args)
                text = io.StringIO()
                stats = pstats.Stats(prof, stream=text).strip_dirs()
                stats.sort_stats("tottime").print_stats(req["profile"])
                reply = {"ok": True, "result": {"profile": text.getvalue()}}
            else:
                reply = {"ok": True, "result": measure(*args)}
        except Exception:  # report, keep serving: one failing workload must not end the run
            reply = {"ok": False, "error": traceback.format_exc()}
        out.write(json.dumps(reply) + "\n")
        out.flush()


# ============================================================================ parent side
class Worker:
    """One engine's worker process."""

    def __init__(self, engine: str, threads: int) -> None:
        self.engine, self.threads = engine, threads
        self._start()

    def _start(self) -> None:
        env = dict(os.environ)
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            env[var] = str(self.threads)
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--worker", self.engine,
             "--threads", str(self.threads)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=HERE)
        hello = self.proc.stdout.readline()
        if not hello:
            raise RuntimeError(f"the {self.engine} worker failed to start")
        self.version = json.loads(hello)["version"]

    def run(self, workload: str, config: dict, seed: int, profile: int = 0) -> dict:
        if self.proc.poll() is not None:
            self._start()
        self.proc.stdin.write(json.dumps({"workload": workload, "config": config,
                                          "seed": seed, "profile": profile}) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            code = self.proc.wait()
            return {"error": f"the {self.engine} worker died (exit code {code}), e.g. out of "
                             "memory"}
        reply = json.loads(line)
        return reply["result"] if reply["ok"] else {"error": reply["error"]}

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait()


def available_engines(requested: list[str]) -> tuple[list[str], dict[str, str]]:
    """The requested engines that are installed, and a note for each one that is not."""
    present, missing = [], {}
    for name in requested:
        if name not in ENGINES:
            raise SystemExit(f"harness: unknown engine {name!r}; choose from {list(ENGINES)}")
        if importlib.util.find_spec(ENGINES[name][1]) is None:
            missing[name] = f"{ENGINES[name][1]} is not installed"
        else:
            present.append(name)
    return present, missing


def machine_info(threads: int) -> dict:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    blas = np.__config__.CONFIG.get("Build Dependencies", {}).get("blas", {})
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=HERE,
                                capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    return {"cpu": model, "cores": usable, "platform": platform.platform(),
            "python": platform.python_version(), "numpy": np.__version__,
            "blas": f"{blas.get('name', '?')} {blas.get('version', '')}".strip(),
            "blas_threads": threads, "git_commit": commit,
            "load_average_start": _loadavg(),
            "date": datetime.now(timezone.utc).isoformat(timespec="seconds")}


def _loadavg() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def run_benchmarks(args: argparse.Namespace) -> dict:
    engines, missing = available_engines(args.engines)
    if FLOOR not in engines:
        raise SystemExit("harness: the NumPy floor must be among the engines")
    configs = wl.CONFIGS["quick" if args.quick else "full"]
    info = machine_info(args.threads)
    raw: dict[str, dict[str, list[dict]]] = {}
    t_start = time.perf_counter()
    workers = {name: Worker(name, args.threads) for name in engines}
    try:
        for workload in args.workloads:
            if workload in LONG:
                chosen = args.long_engines or LONG[workload]
                runs_on = [e for e in engines if e == FLOOR or e in chosen]
                repeats = args.long_repeats
            else:
                runs_on, repeats = engines, args.repeats
            raw[workload] = {e: [] for e in runs_on}
            for r in range(repeats):
                order = runs_on[r % len(runs_on):] + runs_on[:r % len(runs_on)]
                for name in order:
                    print(f"[{time.perf_counter() - t_start:6.1f} s] {workload} repeat "
                          f"{r + 1}/{repeats}: {name}", file=sys.stderr, flush=True)
                    raw[workload][name].append(
                        workers[name].run(workload, configs[workload], args.seed))
        versions = {name: w.version for name, w in workers.items()}
    finally:
        for w in workers.values():
            w.close()
    info["load_average_end"] = _loadavg()
    info["wall_s"] = round(time.perf_counter() - t_start, 1)
    return {"machine": info, "engines": versions, "missing_engines": missing,
            "quick": args.quick, "repeats": args.repeats, "long_repeats": args.long_repeats,
            "seed": args.seed,
            "configs": {w: configs[w] for w in args.workloads},
            "raw": raw, "summary": summarize(raw)}


def summarize(raw: dict[str, dict[str, list[dict]]]) -> dict:
    """Per workload, metric and engine: the median over repeats and, for costs, the median of
    the pairwise ratios to the floor (and to PyTorch where it ran)."""
    summary: dict[str, dict] = {}
    for workload, by_engine in raw.items():
        summary[workload] = {}
        for metric, _, is_cost in METRICS[workload]:
            cell = {}
            for name, runs in by_engine.items():
                values = [r[metric] for r in runs if metric in r]
                if not values:
                    continue
                entry = {"median": statistics.median(values)}
                if is_cost:
                    for ref in (FLOOR, "torch", "mygrad"):
                        pairs = zip(runs, by_engine.get(ref, []))
                        ratios = [r[metric] / q[metric] for r, q in pairs
                                  if metric in r and metric in q and q[metric] > 0]
                        if ratios and ref != name:
                            entry[f"ratio_to_{ref}"] = statistics.median(ratios)
                cell[name] = entry
            summary[workload][metric] = cell
    return summary


def target_rows(results: dict, engine: str = "tinygrad_ng",
                targets: list | None = None) -> list[dict]:
    rows = []
    for workload, metric, against, threshold, text in TARGETS if targets is None else targets:
        entry = results["summary"].get(workload, {}).get(metric, {}).get(engine)
        if entry is None:
            value, note = None, "not measured"
        elif against is None:
            value, note = entry["median"], ""
        else:
            value = entry.get(f"ratio_to_{against}")
            note = "" if value is not None else f"{against} not measured"
        rows.append({"target": text, "value": value, "threshold": threshold,
                     "unit": "s" if against is None and metric.endswith("_s") else "×",
                     "met": None if value is None else value <= threshold, "note": note})
    return rows


# ============================================================================ report
def _fmt(x: float) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    a = abs(x)
    if a == 0 or 0.01 <= a < 1e5:
        return f"{x:.3g}" if a < 100 else f"{x:.0f}"
    return f"{x:.3g}"


def format_report(results: dict) -> str:
    engines = [e for e in ENGINES if e in results["engines"]]
    m = results["machine"]
    lines = [
        f"Machine: {m['cpu']}, {m['cores']} cores; Python {m['python']}, NumPy {m['numpy']} "
        f"({m['blas']}); BLAS threads = {m['blas_threads']} for every engine.",
        "Engines: " + ", ".join(f"{e} {v}" for e, v in results["engines"].items())
        + "".join(f"; {e} absent ({why})" for e, why in results["missing_engines"].items()),
        f"Repeats: {results['repeats']}, interleaved ({', '.join(LONG)}: "
        f"{results['long_repeats']}, on the engines shown), seed {results['seed']}"
        f"{', QUICK sizes' if results['quick'] else ''}; load average "
        f"{m['load_average_start']} → {m['load_average_end']}; wall {m['wall_s']} s.",
        "",
        "Each cell: median over repeats (of the fastest inner run for W1-W3); for times and "
        "memory, (× = median of the pairwise ratios to the NumPy floor).",
        "",
        "| workload | metric | " + " | ".join(engines) + " |",
        "|---|---|" + "---|" * len(engines),
    ]
    for workload, metrics in results["summary"].items():
        for metric, unit, is_cost in METRICS[workload]:
            cells = []
            for e in engines:
                entry = metrics.get(metric, {}).get(e)
                if entry is None:
                    skipped = next((r.get("skipped") or "error" for r in
                                    results["raw"][workload].get(e, [])
                                    if "skipped" in r or "error" in r), None)
                    cells.append(skipped or "—")
                    continue
                text = _fmt(entry["median"])
                if is_cost and "ratio_to_numpy" in entry:
                    text += f" ({_fmt(entry['ratio_to_numpy'])}×)"
                cells.append(text)
            lines.append(f"| {workload} | {unit} | " + " | ".join(cells) + " |")
    for title, engine, targets in (("tinygrad_ng (issue 8)", "tinygrad_ng", TARGETS),
                                   ("tinygrad_ng_jit (issue 19)", "tinygrad_ng_jit",
                                    JIT_TARGETS)):
        if engine not in results["engines"]:
            continue
        lines += ["", f"Targets for {title}:", "", "| target | measured | met |",
                  "|---|---|---|"]
        for row in target_rows(results, engine, targets):
            value = "—" if row["value"] is None else f"{_fmt(row['value'])} {row['unit']}"
            met = {True: "yes", False: "**no**", None: row["note"]}[row["met"]]
            lines.append(f"| {row['target']} | {value} | {met} |")
    errors = [(w, e, r["error"]) for w, by in results["raw"].items() for e, runs in by.items()
              for r in runs if "error" in r]
    for w, e, err in errors:
        lines += ["", f"ERROR in {w} / {e}:", err]
    lines += ["", "Workloads:"] + [
        f"- {w}: " + wl.DESCRIPTIONS[w].format(**cfg) for w, cfg in results["configs"].items()]
    return "\n".join(lines)


def profile(args: argparse.Namespace) -> None:
    configs = wl.CONFIGS["quick" if args.quick else "full"]
    w = Worker(args.profile_engine, args.threads)
    try:
        result = w.run(args.profile, configs[args.profile], args.seed, profile=args.top)
    finally:
        w.close()
    print(result.get("profile") or result.get("error"))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="tiny sizes and 1 repeat: a smoke run of a few seconds")
    parser.add_argument("--repeats", type=int, default=None,
                        help="interleaved repeats per workload (default 3; 1 with --quick)")
    parser.add_argument("--threads", type=int, default=1,
                        help="BLAS threads for every engine (default 1)")
    parser.add_argument("--engines", type=lambda s: s.split(","), default=list(ENGINES),
                        help="comma-separated; absent ones are skipped with a note")
    parser.add_argument("--workloads", type=lambda s: s.split(","), default=list(WORKLOADS))
    parser.add_argument("--long-engines", type=lambda s: s.split(","), default=None,
                        help="engines besides the floor that run the long workloads (default: "
                        + "; ".join(f"{w}: {', '.join(e)}" for w, e in LONG.items()) + ")")
    parser.add_argument("--long-repeats", type=int, default=1,
                        help="repeats of the long workloads (default 1)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=HERE / "results.json",
                        help="where to write the results (default benchmarks/results.json)")
    parser.add_argument("--profile", choices=WORKLOADS, default=None,
                        help="print a cProfile of one workload (its second call, sorted by "
                        "own time) instead of benchmarking")
    parser.add_argument("--profile-engine", default="tinygrad_ng", choices=list(ENGINES))
    parser.add_argument("--top", type=int, default=10, help="rows of the profile")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.worker, args.threads)
        return
    if args.threads < 1:
        parser.error("--threads must be at least 1")
    unknown = set(args.workloads) - set(WORKLOADS)
    if unknown:
        parser.error(f"unknown workloads {sorted(unknown)}; choose from {list(WORKLOADS)}")
    if args.repeats is None:
        args.repeats = 1 if args.quick else 3
    if args.profile:
        profile(args)
        return
    results = run_benchmarks(args)
    results["targets"] = target_rows(results)
    print(format_report(results))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=1) + "\n")
    print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
