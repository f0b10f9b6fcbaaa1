"""The notebooks: each runs end to end (its last cell asserts the lesson's headline result),
is committed without outputs, matches the source it is built from, and is listed in the
notebooks' README."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path

import pytest

nbclient = pytest.importorskip("nbclient")
nbformat = pytest.importorskip("nbformat")
pytest.importorskip("ipykernel")
pytest.importorskip("matplotlib")

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
PATHS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
CELL_TIMEOUT_S = 300
ROOT = NOTEBOOKS.parent
#: What a notebook must show in its outputs (beyond its last cell's asserts).
SHOWS = {
    # the plain network's divergence at α = 1, and detect_anomaly naming the op and the line
    "09_batchnorm_softmax": ["then nan for good: True", "forward produced Inf; the op was "
                             "created at", "cost = F.cross_entropy(model(xb), yb)"],
}
WARNING = re.compile(r"^(.*?):\d+: \w*Warning", re.MULTILINE)
BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def _build_module():
    spec = importlib.util.spec_from_file_location("notebooks_build", NOTEBOOKS / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_there_is_one_notebook_per_source():
    build = _build_module()
    assert len(PATHS) >= 10
    assert [build.target(s) for s in build.sources()] == PATHS


@pytest.mark.parametrize("path", PATHS, ids=[p.stem for p in PATHS])
def test_notebook_runs(path, tmp_path, monkeypatch):
    """Execute every cell in a fresh kernel (working directory: a scratch folder)."""
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("PYDEVD_DISABLE_FILE_VALIDATION", "1")  # quiet debugger warning
    for var in BLAS_THREADS:  # one BLAS thread per kernel: tests run in parallel (-n 2)
        monkeypatch.setenv(var, "1")
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=CELL_TIMEOUT_S, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    last = nb.cells[-1]
    assert last.cell_type == "code" and "assert" in last.source, \
        f"{path.name}: the last cell must assert the lesson's headline result"
    printed = "".join(o.get("text", "") for o in last.outputs if o.output_type == "stream")
    assert "lesson checks passed" in printed, f"{path.name}: the last cell did not finish"
    everything = "".join(o.get("text", "") for cell in nb.cells if cell.cell_type == "code"
                         for o in cell.outputs if o.output_type == "stream")
    for shown in SHOWS.get(path.stem, []):
        assert shown in everything, f"{path.name} does not show {shown!r}"
    # a warning from the notebook's own code (not from the library, whose ops the test
    # suite runs with warnings as errors) is noise the reader should not have to read past
    own = [m.group(0) for m in WARNING.finditer(everything)
           if not Path(m.group(1)).resolve().is_relative_to(ROOT)]
    assert not own, f"{path.name} prints warnings: {own}"


@pytest.mark.parametrize("path", PATHS, ids=[p.stem for p in PATHS])
def test_notebook_is_stripped_and_built_from_its_source(path):
    build = _build_module()
    raw = json.loads(path.read_text(encoding="utf-8"))
    for cell in raw["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, \
                f"{path.name}: outputs must be stripped (run python notebooks/build.py)"
    source = NOTEBOOKS / "src" / f"{path.stem}.py"
    built = build.build(source)
    assert [(c["cell_type"], "".join(c["source"])) for c in raw["cells"]] == \
        [(c.cell_type, c.source) for c in built.cells], \
        f"{path.name} differs from {source.name}: run python notebooks/build.py"
    assert raw["metadata"]["kernelspec"]["name"] == "python3"


def test_readme_lists_every_notebook():
    readme = (NOTEBOOKS / "README.md").read_text(encoding="utf-8")
    missing = [p.name for p in PATHS if f"({p.name})" not in readme]
    assert not missing, f"notebooks/README.md does not link {missing}"


def test_build_parses_percent_format():
    build = _build_module()
    text = "# %% [markdown]\n# # Title\n#\n# $x^2$\n\n# %%\nx = 1\n\n\n# %%\n\n"
    assert build.parse(text) == [("markdown", "# Title\n\n$x^2$"), ("code", "x = 1")]
    with pytest.raises(ValueError, match="unknown cell marker"):
        build.parse("# %% [raw]\nx\n")
    with pytest.raises(ValueError, match="must start with '# '"):
        build.parse("# %% [markdown]\nnot a comment\n")


if __name__ == "__main__":  # python tests/test_notebooks.py: run the notebooks, print times
    sys.exit(pytest.main([__file__, "-q", "--durations=0", *sys.argv[1:]]))
