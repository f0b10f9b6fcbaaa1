"""The benchmark harness runs end to end (a tiny ``--quick`` run) and its bookkeeping is right.

Nothing here depends on timing: the smoke run checks that every workload produced finite
figures and that tinygrad_ng computes the same losses, gradients and accuracies as the
hand-written NumPy floor from the same data and weights; the bookkeeping tests feed the
summary made-up timings.
"""

import importlib.util
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCH))

import harness  # noqa: E402

ENGINES = ["numpy", "tinygrad_ng", "tinygrad_ng_jit"]


@pytest.fixture(scope="module")
def quick_results(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("bench") / "results.json"
    proc = subprocess.run(
        [sys.executable, str(BENCH / "harness.py"), "--quick", "--engines", ",".join(ENGINES),
         "--threads", "1", "--json", str(out)],
        capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "| workload | metric |" in proc.stdout
    return json.loads(out.read_text())


def _skipped(workload: str, engine: str = "numpy") -> bool:
    if engine == "tinygrad_ng_jit" and workload in (*harness.cnn.WORKLOADS, "W9"):
        return True  # the compiled-step engine runs the MLP workloads only
    if workload in harness.cnn.WORKLOADS:  # there is no hand-written NumPy CNN floor
        return engine == "numpy"
    return workload == "W4" and importlib.util.find_spec("sklearn") is None


def test_every_workload_has_finite_figures_for_every_engine(quick_results):
    assert quick_results["quick"] is True
    assert quick_results["machine"]["blas_threads"] == 1
    assert set(quick_results["engines"]) == set(ENGINES)
    for workload in harness.WORKLOADS:
        for engine in ENGINES:
            if engine not in quick_results["raw"][workload]:  # a long workload it skips
                assert engine not in harness.LONG[workload]
                continue
            runs = quick_results["raw"][workload][engine]
            assert len(runs) == 1, (workload, engine)
            assert "error" not in runs[0], runs[0].get("error")
            if _skipped(workload, engine):
                assert "skipped" in runs[0]
                continue
            for metric, _, is_cost in harness.METRICS[workload]:
                value = runs[0][metric]
                assert math.isfinite(value), (workload, engine, metric, value)
                if is_cost:
                    assert value > 0, (workload, engine, metric)
            summary = quick_results["summary"][workload]
            for metric, _, is_cost in harness.METRICS[workload]:
                entry = summary[metric][engine]
                if is_cost and engine != "numpy" and not _skipped(workload):
                    assert math.isfinite(entry["ratio_to_numpy"])


def test_tinygrad_agrees_with_the_hand_written_floor(quick_results):
    """Same weights, batches and op chain: same losses, gradients and accuracies."""
    for workload, metrics in harness.METRICS.items():
        if _skipped(workload):
            continue
        for metric, _, is_cost in metrics:
            if is_cost:
                continue
            floor = quick_results["summary"][workload][metric]["numpy"]["median"]
            for engine in ENGINES[1:]:
                if engine not in quick_results["summary"][workload][metric]:
                    continue  # (W3-1M runs without the compiled steps)
                ours = quick_results["summary"][workload][metric][engine]["median"]
                assert ours == pytest.approx(floor, rel=1e-3, abs=1e-4), (workload, metric)


def test_targets_table_lists_every_target(quick_results):
    rows = harness.target_rows(quick_results)
    assert [r["target"] for r in rows] == [t[-1] for t in harness.TARGETS]
    for row in rows:
        # PyTorch and MyGrad are not part of this run
        if row["target"].startswith(("W6", "W7", "W8")) or "PyTorch" in row["target"]:
            assert row["value"] is None and row["met"] is None
        elif not (row["target"].startswith("W4") and _skipped("W4")):
            assert math.isfinite(row["value"])
            assert row["met"] == (row["value"] <= row["threshold"])


def test_ratios_are_medians_of_pairs_within_the_run():
    """engine_r ÷ numpy_r per repeat r, then the median; not a ratio of medians."""
    raw = {"W1": {
        "numpy": [{"step_ms": 1.0, "loss": 2.0}, {"step_ms": 4.0, "loss": 2.0},
                  {"step_ms": 2.0, "loss": 2.0}],
        "tinygrad_ng": [{"step_ms": 3.0, "loss": 2.0}, {"step_ms": 4.0, "loss": 2.0},
                        {"step_ms": 5.0, "loss": 2.0}],
    }}
    summary = harness.summarize(raw)["W1"]
    assert summary["step_ms"]["numpy"] == {"median": 2.0}
    assert summary["step_ms"]["tinygrad_ng"]["median"] == 4.0
    assert summary["step_ms"]["tinygrad_ng"]["ratio_to_numpy"] == 2.5  # median of 3, 1, 2.5
    assert "ratio_to_numpy" not in summary["loss"]["tinygrad_ng"]  # results get no ratio


def test_absent_peer_is_reported_not_run(monkeypatch):
    monkeypatch.setitem(harness.ENGINES, "ghost", ("workloads_ghost", "no_such_package_xyz"))
    present, missing = harness.available_engines(["numpy", "ghost", "tinygrad_ng"])
    assert present == ["numpy", "tinygrad_ng"]
    assert missing == {"ghost": "no_such_package_xyz is not installed"}
    with pytest.raises(SystemExit, match="unknown engine"):
        harness.available_engines(["numpy", "tensorflow_lite"])
