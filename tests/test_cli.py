"""The command line: ``tinygrad-ng demo | graph | train | gradcheck``.

Most tests call ``main(argv)`` in-process (fast); a few run ``python -m tinygrad_ng`` in a
subprocess to check the entry point itself and that user errors print one line without a
traceback.
"""

import errno
import functools
import io
import math
import os
import re
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tinygrad_ng.viz.walk import nearest_first

import tinygrad_ng as tg
from tinygrad_ng import nn, ops
from tinygrad_ng.__main__ import main
from tinygrad_ng.cli import graph, opcheck
from tinygrad_ng.cli.expr import FUNCTIONS, ExpressionError, evaluate

#: A folder no one can create files in (Linux); the output-path tests that need it skip
#: elsewhere.
PROC = "/proc"
needs_proc = pytest.mark.skipif(not os.path.isdir(f"{PROC}/self"), reason="needs Linux /proc")


def run_cli(capsys, *argv):
    """``main(argv)`` in-process: (exit code, stdout, stderr)."""
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code, err, *words):
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "error" in lines[0] and "Traceback" not in err
    for w in words:
        assert w in lines[0], lines[0]


# ------------------------------------------------------------------ the safe parser
def test_course_example_values_names_and_gradients():
    r = evaluate("3*(a + b*c)", {"a": 5, "b": 3, "c": 2})
    r.output.backward()
    assert r.output.item() == 33
    assert [(s.name, s.definition, s.tensor.item()) for s in r.steps] == [
        ("u", "b * c", 6), ("v", "a + u", 11), ("J", "3 * v", 33)]
    assert {n: float(t.grad) for n, t in r.variables.items()} == {"a": 3, "b": 6, "c": 9}


def test_assignments_name_the_nodes():
    r = evaluate("u = b*c; v = a + u; J = 3*v", {"a": 5, "b": 3, "c": 2})
    assert r.name == "J" and r.output.name == "J" and r.output.item() == 33
    assert [s.name for s in r.steps] == ["u", "v", "J"]
    assert r.output._ctx.parents[1].name == "v"


def test_automatic_names_skip_the_names_in_use():
    r = evaluate("u*v + w", {"u": 1, "v": 2, "w": 3})
    assert [s.name for s in r.steps] == ["p", "J"]
    r = evaluate("J + 1", {"J": 2.0})
    assert r.name == "out"


def test_constants_are_folded_and_pi_is_known():
    r = evaluate("a * 2**3 + exp(0) * pi", {"a": 1.0})
    assert r.output.item() == pytest.approx(8 + math.pi)
    assert [s.definition for s in r.steps] == ["a * 8", f"u + {math.pi:g}"]


def test_functions_with_optional_and_constant_arguments():
    x = {"a": np.array([-1.0, 0.5, 2.0]), "b": 1.0}
    assert evaluate("sum(clip(a, 0, 1))", x).output.item() == 1.5
    assert evaluate("max(a)", x).output.item() == 2.0
    assert np.allclose(evaluate("max(a, b)", x).output.data, [1.0, 1.0, 2.0])
    assert np.allclose(evaluate("leaky_relu(a, 0.1)", x).output.data, [-0.1, 0.5, 2.0])


@pytest.mark.parametrize("text, words", [
    ("__import__('os')", ["unknown function '__import__'"]),
    ("open('f').read()", ["only calls of the functions"]),
    ("a.__class__", ["attribute access"]),
    ("a[0]", ["subscripts"]),
    ("(lambda: 1)()", ["only calls of the functions"]),
    ("lambda: a", ["lambda"]),
    ("[x for x in a]", ["comprehensions"]),
    ("sum(x for x in a)", ["comprehensions"]),
    ("exp(x=a)", ["keyword arguments"]),
    ("exp(*a)", ["'*args'"]),
    ("9**9**9", ["exponent", "too large"]),
    ("a ** 1000", ["exponent", "too large"]),
    ("a * 1e300", ["too large"]),
    ("a * 123456789012345678901234567890", ["too large"]),
    ("'x' * a", ["only numbers"]),
    ("a if a else b", ["not allowed"]),
    ("a < b", ["comparisons"]),
    ("a and b", ["not allowed"]),
    ("a % b", ["Mod", "not allowed"]),
    ("~a", ["Invert", "not allowed"]),
    ("import os", ["import statements"]),
    ("a; b", ["never used"]),
    ("J = a; K = a", ["'J = a'", "never used", "last statement is the output"]),
    ("u = a; v = u; J = a", ["'v = u'", "never used"]),
    ("a = 1", ["input variable"]),
    ("x, y = a, b", ["one plain name"]),
    ("exp = a", ["function name"]),
    ("u = a; u = b", ["assigned twice"]),
    ("exp", ["is a function"]),
    ("clip(a, 0)", ["takes 3 argument(s)"]),
    ("clip(a, 0, b)", ["must be a constant"]),
    ("exp(a, b)", ["takes 1 argument(s)"]),
    ("2 + 3", ["does not depend on any variable"]),
    ("1/0 + a", ["not a finite number"]),
    ("a +", ["invalid syntax"]),
    ("", ["empty"]),
    ("a" + "+a" * 600, ["characters long"]),
    ("-" * 80 + "a", ["nested too deeply"]),
    ("exp(" * 70 + "a" + ")" * 70, ["nested too deeply"]),
])
def test_rejected_expressions(text, words):
    with pytest.raises(ExpressionError) as info:
        evaluate(text, {"a": 1.0, "b": 2.0})
    message = str(info.value)
    assert "\n" not in message
    for w in words:
        assert w in message


def test_every_earlier_statement_must_be_used():
    r = evaluate("u = a*b; w = u; J = w + 1", {"a": 2.0, "b": 3.0})
    assert r.output.item() == 7 and r.name == "J"
    r = evaluate("u = 2; J = a*u", {"a": 3.0})  # a constant counts as used too
    assert r.output.item() == 6


def test_variable_names_are_normalised_as_python_reads_identifiers():
    r = evaluate("a + ｂ", {"a": 1.0, "ｂ": 2.0})  # the parser reads ｂ (fullwidth) as b
    assert r.output.item() == 3 and set(r.variables) == {"a", "b"}
    with pytest.raises(ExpressionError, match="'b' is given twice"):
        evaluate("b", {"ｂ": 1.0, "b": 2.0})


def test_unknown_variable_lists_the_known_ones():
    with pytest.raises(ExpressionError, match=r"unknown variable 'x'; known variables: a, b"):
        evaluate("a + x", {"b": 1.0, "a": 2.0})


@pytest.mark.parametrize("name", ["1a", "_a", "if", "exp"])
def test_bad_variable_names(name):
    with pytest.raises(ExpressionError, match="name"):
        evaluate("a", {name: 1.0})


# Random expressions over a, b: the safe parser's value and gradients against NumPy's value
# and finite differences.
_NUMPY = {"exp": np.exp, "tanh": np.tanh, "square": np.square,
          "sigmoid": lambda x: 1 / (1 + np.exp(-x)), "sqrt": lambda x: np.sqrt(x),
          "log": lambda x: np.log(x)}
_leaf = st.sampled_from(["a", "b", "1.5", "2"])


def _expr(children):
    binary = st.tuples(children, st.sampled_from(["+", "-", "*"]), children).map(
        lambda t: f"({t[0]} {t[1]} {t[2]})")
    unary = st.tuples(st.sampled_from(["exp", "tanh", "square", "sigmoid"]), children).map(
        lambda t: f"{t[0]}({t[1]} / 4)")
    positive = children.map(lambda c: f"log(1 + square({c}))")
    return binary | unary | positive


@given(text=st.recursive(_leaf, _expr, max_leaves=6), a=st.floats(-2, 2), b=st.floats(-2, 2))
def test_random_expressions_match_numpy_and_finite_differences(text, a, b):
    try:
        r = evaluate(text, {"a": a, "b": b})
    except ExpressionError as e:  # only a constant expression may be refused
        assert "does not depend on any variable" in str(e)
        return
    expected = eval(text, {"__builtins__": {}}, {**_NUMPY, "a": a, "b": b})  # trusted text
    assert r.output.item() == pytest.approx(expected, rel=1e-9, abs=1e-12)
    assert tg.gradcheck(lambda x, y: evaluate(text, {"a": x, "b": y}).output,
                        [tg.Tensor(np.float64(a), requires_grad=True),
                         tg.Tensor(np.float64(b), requires_grad=True)])


def test_every_whitelisted_function_evaluates():
    args = {"leaky_relu": "a, 0.2", "clip": "a, -1, 1", "maximum": "a, b", "minimum": "a, b"}
    for name in FUNCTIONS:
        text = f"sum({name}({args.get(name, 'a')}))"
        r = evaluate(text, {"a": np.array([0.5, 1.5]), "b": np.array([1.0, 1.0])})
        r.output.backward()
        assert np.isfinite(r.output.item()) and r.variables["a"].grad.shape == (2,)


# ------------------------------------------------------------------ graph
def test_graph_prints_the_forward_and_backward_pass_and_writes_svg(capsys, tmp_path):
    path = tmp_path / "g.svg"
    code, out, _ = run_cli(capsys, "graph", "3*(a + b*c)", "--var", "a=5", "--var", "b=3",
                           "--var", "c=2", "-o", path)
    assert code == 0
    for line in ["u = b * c = 6", "v = a + u = 11", "J = 3 * v = 33", "dJ/da = 3",
                 "dJ/db = 6", "dJ/dc = 9", "dJ/du = 3", "dJ/dv = 3"]:
        assert line in out
    svg = path.read_text()
    assert "<svg" in svg and "u = b · c" in svg


def test_graph_dot_output_and_vectors(capsys, tmp_path):
    code, out, err = run_cli(capsys, "graph", "mean(square(x - y))", "--var", "x=1,2,3",
                             "--var", "y=0,0,0", "--dot")
    assert code == 0
    assert out.lstrip().startswith("digraph") and "forward:" in err
    assert "dJ/dx = [0.666667, 1.33333, 2]" in err  # 2(x − y)/3
    assert not list(tmp_path.iterdir())
    code, out, _ = run_cli(capsys, "graph", "a*a", "--var", "a=2", "-o", tmp_path / "g.dot")
    assert code == 0 and (tmp_path / "g.dot").read_text().startswith("digraph")


def test_graph_reports_a_non_finite_gradient(capsys, tmp_path):
    code, out, _ = run_cli(capsys, "graph", "sqrt(a)", "--var", "a=0", "-o", tmp_path / "g.dot")
    assert code == 0 and "dJ/da = inf" in out and "not finite" in out


@pytest.mark.parametrize("argv, words", [
    (["graph", "__import__('os').system('echo hi')"], ["bad expression"]),
    (["graph", "a.b", "--var", "a=1"], ["attribute access"]),
    (["graph", "9**9**9 * a", "--var", "a=1"], ["too large"]),
    (["graph", "a + x", "--var", "a=1"], ["known variables: a"]),
    (["graph", "a", "--var", "a"], ["NAME=VALUE"]),
    (["graph", "a", "--var", "a=five"], ["not a number"]),
    (["graph", "a", "--var", "a=inf"], ["finite"]),
    (["graph", "a", "--var", "a=1", "--var", "a=2"], ["twice"]),
    (["graph", "a", "--var", "a=1", "-o", "g.txt"], ["unknown extension"]),
    (["graph", "x", "--var", "x=1,2"], ["shape (2,)", "sum(...)"]),
    (["graph", "log(a)", "--var", "a=-1"], ["nan"]),
    (["graph", "a", "--rankdir", "XY"], ["invalid choice"]),
    (["graph", "J = a; K = a", "--var", "a=1"], ["'J = a'", "never used"]),
    (["graph", "b", "--var", "ｂ=1", "--var", "b=2"], ["twice"]),
    (["graph", "a", "--chekc", "--var", "a=1"], ["unrecognized arguments: --chekc"]),
    (["graph", "-a", "b", "--var", "a=1"], ["unrecognized arguments: b"]),
])
def test_graph_usage_errors(capsys, argv, words):
    code, _, err = run_cli(capsys, *argv)
    assert_one_line_error(code, err, *words)


def test_graph_fullwidth_variable_name(capsys, tmp_path):
    code, out, _ = run_cli(capsys, "graph", "a + ｂ", "--var", "ｂ=2", "--var", "a=1", "-o",
                           tmp_path / "g.dot")
    assert code == 0 and "J = a + b = 3" in out and "dJ/db = 1" in out


@pytest.mark.parametrize("argv", [
    ["-a*b", "--var", "a=2", "--var", "b=3"],
    ["--var", "a=2", "--var", "b=3", "--", "-a*b"],
    ["--", "-a*b", "--var", "a=2", "--var", "b=3"],
    ["--var=a=2", "-a*b", "--var", "b=3"],
    ["--var", "a=2", "-o", "{out}", "-a*b", "--var", "b=3"],
    ["--var", "a=2", "-o{out}", "--var", "b=3", "-a*b"],
])
def test_graph_expression_may_start_with_a_minus(capsys, tmp_path, argv):
    out_file = tmp_path / "g.dot"
    argv = [a.format(out=out_file) for a in argv]
    if str(out_file) not in "".join(argv):
        argv += ["-o", str(out_file)]
    code, out, err = run_cli(capsys, "graph", *argv)
    assert code == 0, err
    assert "u = -a = -2" in out and "J = u * b = -6" in out
    assert "dJ/da = -3" in out and "dJ/db = -2" in out
    assert out_file.read_text().startswith("digraph")


def test_expression_last_leaves_options_and_their_values_alone():
    assert graph.expression_last(["-o", "-x.svg", "-a"]) == ["-o", "-x.svg", "--", "-a"]
    assert graph.expression_last(["--out", "g.svg", "--ch", "-1*a"]) == [
        "--out", "g.svg", "--ch", "--", "-1*a"]
    assert graph.expression_last(["--var", "a=1"]) == ["--var", "a=1"]
    assert graph.expression_last(["--bogus", "a"]) == ["--bogus", "--", "a"]


def test_expression_last_knows_every_graph_option():
    import argparse

    p = argparse.ArgumentParser()
    graph.add_arguments(p)
    options = {o: a.nargs != 0 for a in p._actions for o in a.option_strings}
    assert options == {**dict.fromkeys(graph.VALUE_OPTIONS, True),
                       **dict.fromkeys(graph.FLAGS, False)}


@pytest.mark.parametrize("expression", ["a", "J = a"])
def test_graph_check_of_a_single_variable_is_a_note(capsys, tmp_path, expression):
    code, out, err = run_cli(capsys, "graph", expression, "--var", "a=1", "--check", "-o",
                             tmp_path / "g.dot")
    assert code == 0, err
    assert "dJ/da = 1" in out and "--check skipped" in out
    assert (tmp_path / "g.dot").read_text().startswith("digraph")


# ------------------------------------------------------------------ gradcheck
def test_gradcheck_covers_every_library_op():
    names = {op for op, _ in opcheck.library_ops()}
    assert len(names) >= 40
    assert names <= opcheck.COVERED, f"ops without an entry: {sorted(names - opcheck.COVERED)}"


def test_gradcheck_command_passes_and_lists_every_op(capsys):
    code, out, _ = run_cli(capsys, "gradcheck")
    assert code == 0
    rows = [line.split() for line in out.splitlines()[2:] if line.strip()][:-1]
    assert {r[0] for r in rows} == {op for op, _ in opcheck.library_ops()}
    assert all(r[-1] == "pass" and float(r[3]) < 1e-4 for r in rows)


def test_gradcheck_command_fails_on_a_wrong_backward(capsys, monkeypatch):
    monkeypatch.setattr(ops.Exp, "backward", staticmethod(lambda ctx, g: 2 * g))
    code, out, _ = run_cli(capsys, "gradcheck", "--op", "exp", "--op", "log")
    assert code == 1
    rows = {line.split()[0]: line for line in out.splitlines()[2:4]}
    assert "FAIL" in rows["exp"] and rows["log"].rstrip().endswith("pass")


def test_gradcheck_lists_a_new_op_as_not_covered(capsys, monkeypatch):
    class Cube(tg.Function):
        op = "cube_for_test"

        @staticmethod
        def forward(ctx, x):
            return x ** 3

    Cube.__module__ = ops.__name__
    monkeypatch.setattr(ops, "Cube", Cube, raising=False)
    code, out, _ = run_cli(capsys, "gradcheck", "--op", "cube_for_test")
    assert code == 1 and "not covered" in out and "1 not covered" in out


def test_gradcheck_unknown_op(capsys):
    code, _, err = run_cli(capsys, "gradcheck", "--op", "nope")
    assert_one_line_error(code, err, "unknown op")


@pytest.mark.parametrize("command", ["train", "demo", "gradcheck"])
@pytest.mark.parametrize("seed", ["-1", "1.5", "x"])
def test_seed_must_be_a_non_negative_integer(capsys, command, seed):
    code, _, err = run_cli(capsys, command, "--seed", seed)
    assert_one_line_error(code, err, "--seed", "non-negative integer")


# ------------------------------------------------------------------ train
def test_train_learns_moons_and_saves_weights_and_plot(capsys, tmp_path):
    code, out, _ = run_cli(capsys, "train", "--dataset", "moons", "--layers", "2,16,1",
                           "--epochs", "40", "--save", tmp_path / "m.npz", "--plot",
                           tmp_path / "loss.png", "--no-progress")
    assert code == 0
    test_acc = float(out.split("test accuracy ")[1].split("%")[0])
    assert test_acc > 85
    state = nn.load(tmp_path / "m.npz")
    assert state["0.weight"].shape == (16, 2) and state["2.weight"].shape == (1, 16)
    assert (tmp_path / "loss.png").read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize("argv", [
    ["--dataset", "spirals", "--layers", "2,8,3", "--optimizer", "rmsprop"],
    ["--dataset", "circles", "--layers", "2,4,2", "--activation", "tanh", "--optimizer",
     "momentum"],
    ["--dataset", "flower", "--activation", "sigmoid", "--optimizer", "sgd", "--lr", "0.5"],
    ["--dataset", "digits", "--layers", "64,10", "--batch-size", "256"],
])
def test_train_datasets_optimizers_and_activations(capsys, argv):
    code, out, _ = run_cli(capsys, "train", *argv, "--epochs", "2", "--no-progress")
    assert code == 0
    assert "train accuracy" in out and "test accuracy" in out and "final loss" in out


def test_training_is_repeatable_with_a_seed(capsys):
    argv = ["train", "--samples", "60", "--epochs", "3", "--seed", "7", "--no-progress"]
    first = run_cli(capsys, *argv)[1]
    assert run_cli(capsys, *argv)[1] == first


@pytest.mark.parametrize("argv, words", [
    (["--layers", "3,4,1"], ["starts with 3", "2 features"]),
    (["--layers", "2,4,3"], ["ends with 3", "2 classes"]),
    (["--dataset", "spirals", "--layers", "2,4,1"], ["3 classes"]),
    (["--layers", "2"], ["at least two"]),
    (["--layers", "2,x"], ["layer sizes"]),
    (["--dataset", "mnist"], ["invalid choice"]),
    (["--optimizer", "lbfgs"], ["invalid choice"]),
    (["--activation", "gelu"], ["invalid choice"]),
    (["--epochs", "0"], ["positive integer"]),
    (["--lr", "nan"], ["positive number"]),
    (["--dataset", "digits", "--samples", "10"], ["fixed size"]),
    (["--samples", "1"], ["--samples 1", "moons needs between 10"]),
    (["--samples", "9"], ["moons needs between 10"]),
    (["--dataset", "spirals", "--samples", "2"], ["spirals needs between 15", "test set"]),
    (["--samples", "10000000"], ["and 1000000"]),
    (["--samples", "0"], ["positive integer"]),
    (["--plot", "loss.xyz"], ["unknown extension '.xyz'", ".png"]),
    (["--bogus"], ["unrecognized arguments"]),
])
def test_train_usage_errors(capsys, argv, words):
    code, _, err = run_cli(capsys, "train", *argv)
    assert_one_line_error(code, err, *words)


def test_smallest_sample_count_trains_with_a_test_set(capsys):
    code, out, err = run_cli(capsys, "train", "--samples", "10", "--epochs", "1",
                             "--no-progress")
    assert code == 0 and "8 training / 2 test examples" in out
    assert "nan" not in out and "Warning" not in err


def test_plot_without_extension_gets_png_and_says_so(capsys, tmp_path):
    code, out, _ = run_cli(capsys, "train", "--samples", "20", "--epochs", "1", "--plot",
                           tmp_path / "loss", "--no-progress")
    assert code == 0 and f"saved the loss curve to {tmp_path / 'loss.png'}\n" in out
    assert (tmp_path / "loss.png").read_bytes().startswith(b"\x89PNG")
    assert not (tmp_path / "loss").exists()


def _unwritable_outputs(tmp_path):
    """argv of each command with an output that cannot be written, the path the message
    names and why: a file where a folder must be (also further up), a folder where the
    file must be."""
    (tmp_path / "folder").mkdir()
    (tmp_path / "plot.png").mkdir()
    (tmp_path / "file").write_text("")
    folder, file = str(tmp_path / "folder"), str(tmp_path / "file")
    train = ["train", "--samples", "20", "--epochs", "1", "--no-progress"]
    demo = ["demo", "--epochs", "1", "--no-progress"]
    graph_ = ["graph", "a*b", "--var", "a=1", "--var", "b=2"]
    return [(train + ["--save", folder], folder, "is a folder"),
            (train + ["--save", f"{file}/m.npz"], file, "not a folder"),
            (train + ["--plot", str(tmp_path / "plot")], "plot.png", "is a folder"),
            (train + ["--plot", f"{file}/sub/l.png"], file, "not a folder"),
            (demo + ["--out", file], file, "not a folder"),
            (demo + ["--out", f"{file}/d"], file, "not a folder"),
            (graph_ + ["-o", f"{file}/g.svg"], file, "not a folder")]


@pytest.mark.parametrize("case", range(7))
def test_unwritable_outputs_are_usage_errors_before_any_work(capsys, tmp_path, case):
    argv, where, why = _unwritable_outputs(tmp_path)[case]
    code, out, err = run_cli(capsys, *argv)
    assert_one_line_error(code, err, "cannot write", where, why)
    assert "final loss" not in out and "forward:" not in out  # nothing was computed first


@needs_proc
@pytest.mark.parametrize("argv", [
    ["train", "--samples", "20", "--epochs", "1", "--save", f"{PROC}/x.npz"],
    ["train", "--samples", "20", "--epochs", "1", "--plot", f"{PROC}/x.png"],
    ["demo", "--epochs", "1", "--out", f"{PROC}/demo"],
    ["graph", "a*b", "--var", "a=1", "--var", "b=2", "-o", f"{PROC}/x.svg"],
])
def test_outputs_in_a_folder_that_takes_no_files(capsys, argv):
    code, out, err = run_cli(capsys, *argv, *(["--no-progress"] if argv[0] != "graph" else []))
    assert_one_line_error(code, err, "cannot write", f"{PROC}/x" if argv[0] != "demo"
                          else f"{PROC}/demo")
    assert "final loss" not in out and "forward:" not in out


def test_a_failure_while_writing_is_a_usage_error(capsys, tmp_path, monkeypatch):
    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(nn, "save", disk_full)
    code, _, err = run_cli(capsys, "train", "--samples", "20", "--epochs", "1", "--save",
                           tmp_path / "m.npz", "--no-progress")
    assert_one_line_error(code, err, "cannot write", "m.npz", os.strerror(errno.ENOSPC))


def test_digits_without_scikit_learn_is_a_clear_error(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)  # import fails
    code, _, err = run_cli(capsys, "train", "--dataset", "digits", "--layers", "64,10")
    assert_one_line_error(code, err, "scikit-learn", "pip install")


def test_plot_without_matplotlib_is_a_clear_error(capsys, monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    code, _, err = run_cli(capsys, "train", "--plot", tmp_path / "l.png")
    assert_one_line_error(code, err, "matplotlib")


# ------------------------------------------------------------------ demo and the front door
def test_demo_prints_the_course_example_and_writes_its_files(capsys, tmp_path):
    code, out, _ = run_cli(capsys, "demo", "--epochs", "3", "--out", tmp_path / "d",
                           "--no-progress")
    assert code == 0
    assert "u = bc = 6, v = a + u = 11, J = 3v = 33" in out
    assert "dJ/da = 3, dJ/db = 6, dJ/dc = 9" in out
    assert out.index("J = 3v = 33") < out.index("test accuracy")
    assert str(tmp_path / "d") in out
    for name in ("course_graph.svg", "model_graph.svg"):
        assert "<svg" in (tmp_path / "d" / name).read_text()
    for name in ("loss.png", "decision_boundary.png"):
        assert (tmp_path / "d" / name).read_bytes().startswith(b"\x89PNG")
    assert "W[1]" in (tmp_path / "d" / "model_graph.svg").read_text()


def test_demo_model_drawing_shows_the_gradients_of_its_own_graph(capsys, tmp_path,
                                                                 monkeypatch):
    from tinygrad_ng.cli import demo

    drawn, original = {}, demo._draw

    def draw(root, path, title):  # keep the root, write the DOT source
        drawn[path.name] = root
        return original(root, path.with_suffix(".dot"), title)

    monkeypatch.setattr(demo, "_draw", draw)
    code, _, _ = run_cli(capsys, "demo", "--epochs", "2", "--out", tmp_path, "--no-progress")
    assert code == 0
    cost = drawn["model_graph.svg"]
    params = [t for t in nearest_first(cost) if t.is_leaf and t.requires_grad]
    assert [p.name for p in params if p.name == "W[1]"] == ["W[1]"]
    expected = tg.grad(cost, params, retain_graph=True)
    for p, g in zip(params, expected):  # the last training batch's gradients are gone
        np.testing.assert_allclose(p.grad, g, rtol=1e-6, err_msg=p.name)
    assert "other backward() calls" not in (tmp_path / "model_graph.dot").read_text()


def test_without_graphviz_graph_fails_clearly_and_demo_keeps_the_dot_source(
        capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no 'dot' program to be found
    code, out, err = run_cli(capsys, "graph", "a*b", "--var", "a=1", "--var", "b=2", "-o",
                             tmp_path / "g.svg")
    assert code == 1 and "dJ/da = 2" in out
    assert len(err.strip().splitlines()) == 1 and "Graphviz" in err and "g.dot" in err
    code, out, _ = run_cli(capsys, "demo", "--epochs", "1", "--out", tmp_path / "d",
                           "--no-progress")
    assert code == 0 and "DOT source" in out
    assert (tmp_path / "d" / "course_graph.dot").read_text().startswith("digraph")


def test_no_command_help_and_version(capsys):
    code, _, err = run_cli(capsys)
    assert_one_line_error(code, err, "choose a command")
    code, out, _ = run_cli(capsys, "--help")
    assert code == 0 and all(c in out for c in ("demo", "graph", "train", "gradcheck"))
    code, out, _ = run_cli(capsys, "--version")
    assert code == 0 and tg.__version__ in out
    code, _, err = run_cli(capsys, "frobnicate")
    assert_one_line_error(code, err, "invalid choice")


def test_python_dash_m_entry_point(tmp_path):
    ok = subprocess.run([sys.executable, "-m", "tinygrad_ng", "graph", "a*b", "--var", "a=2",
                         "--var", "b=5", "-o", str(tmp_path / "g.dot")],
                        capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0 and "dJ/da = 5" in ok.stdout and "dJ/db = 2" in ok.stdout
    bad = subprocess.run([sys.executable, "-m", "tinygrad_ng", "graph", "__import__('os')"],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1


class Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def test_train_progress_bar_moves_after_every_step_on_a_terminal(capsys, monkeypatch):
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    import tqdm  # draw every update, not 10 per second:

    monkeypatch.setattr(tqdm, "tqdm", functools.partial(tqdm.tqdm, mininterval=0))
    code = main(["train", "--samples", "40", "--epochs", "3", "--batch-size", "8"])
    assert code == 0
    # 32 training examples in batches of 8: 4 steps per epoch, 12 in all
    frames = terminal.getvalue().split("\r")
    counts = [int(m.group(1)) for f in frames if (m := re.search(r"\| *(\d+)/12 ", f))]
    assert counts == sorted(counts) and set(range(13)) <= set(counts), counts
    with_loss = [f for f in frames if re.search(r"epoch 1/3, loss \d\.\d{4}", f)]
    assert with_loss and "4/12" in with_loss[0]  # the cost beside the step it belongs to
    assert "epoch 3/3" in frames[-1] or "epoch 3/3" in frames[-2]
    assert "epoch 1/3" not in capsys.readouterr().out  # no per-epoch lines as well


def test_train_progress_in_a_log_file_is_one_line_per_epoch(capsys):
    code, out, err = run_cli(capsys, "train", "--samples", "40", "--epochs", "3",
                             "--batch-size", "8")
    assert code == 0
    assert "\r" not in err + out and err == ""
    lines = [line for line in out.splitlines() if "epoch" in line and "loss" in line]
    assert [re.search(r"epoch (\d)/3, loss \d\.\d{4}$", line).group(1) for line in lines] == \
        ["1", "2", "3"]
    code, out, err = run_cli(capsys, "train", "--samples", "40", "--epochs", "3",
                             "--no-progress")
    assert "epoch 1/3" not in out + err
