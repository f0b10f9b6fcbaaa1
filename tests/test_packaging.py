"""The installed layout: nn/, optim/ and viz/ live only under tinygrad_ng."""

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_python(code: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True)


def test_subpackages_import_under_tinygrad_ng_only(tmp_path):
    ok = run_python("import tinygrad_ng.nn, tinygrad_ng.optim, tinygrad_ng.viz, "
                    "tinygrad_ng.functional; from tinygrad_ng import optim; "
                    "from tinygrad_ng.viz import draw_graph", tmp_path)
    assert ok.returncode == 0, ok.stderr
    for generic in ("nn", "optim", "viz"):
        res = run_python(f"import {generic}", tmp_path)
        assert res.returncode != 0 and "ModuleNotFoundError" in res.stderr, generic


def test_wheel_maps_the_folders_into_the_package(tmp_path):
    res = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps",
                          "--no-build-isolation", "-q", "-w", str(tmp_path), str(ROOT)],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    (wheel,) = tmp_path.glob("tinygrad_ng-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for sub in ("nn", "optim", "viz"):
        assert f"tinygrad_ng/{sub}/__init__.py" in names
        assert not any(n.startswith(f"{sub}/") for n in names)
    assert "tinygrad_ng/testing/strategies.py" in names
    assert "tinygrad_ng/cli/expr.py" in names
    for asset in ("__init__.py", "data.py", "template.html", "page.js", "page.css"):
        assert f"tinygrad_ng/viz/page/{asset}" in names  # the page's template is package data
