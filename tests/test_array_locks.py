"""Arrays saved for backward are read-only until backward, and exactly as writeable as before
afterwards, whatever views of them the graph saved and in whatever order it lets them go."""

import gc
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_ng as tg
from tinygrad_ng.autograd import FREED


class Unraisables:
    """``with Unraisables() as seen:`` collects what destructors raise (instead of printing)."""

    def __enter__(self) -> list:
        self.seen: list = []
        self.previous = sys.unraisablehook
        sys.unraisablehook = lambda info: self.seen.append(
            f"{info.exc_type.__name__}: {info.exc_value} in {info.object!r}")
        return self.seen

    def __exit__(self, *exc: object) -> None:
        gc.collect()  # (a destructor run by the collector reports here too)
        sys.unraisablehook = self.previous


def user_arrays(seed: int) -> dict[str, np.ndarray]:
    """What a user hands in: owners, views of them (some saved before their base), an array
    made read-only on purpose, a read-only broadcast view, memory NumPy does not own; all of
    shape (4, 4) but the owners ``flat`` and ``row`` of two views."""
    rng = np.random.default_rng(seed)
    base = rng.standard_normal((4, 4))
    other = rng.standard_normal((4, 4))
    frozen = rng.standard_normal((4, 4))
    frozen.setflags(write=False)
    flat = rng.standard_normal(32)
    row = rng.standard_normal(4)
    return {"base": base, "base.T": base.T, "base[::-1]": base[::-1], "other": other,
            "frozen": frozen, "flat view": flat[::2].reshape(4, 4), "flat": flat,
            "broadcast": np.broadcast_to(row, (4, 4)), "row": row,
            "dlpack": np.from_dlpack(rng.standard_normal((4, 4)))}


UNARY = {
    "T": lambda t: t.T,
    "flip": lambda t: t[::-1],
    "reshape": lambda t: t.reshape(2, 8).reshape(4, 4),
    "rows": lambda t: t[[0, 0, 1, 2]],
    "halves": lambda t: tg.concatenate([t[2:], t[:2]]),
    "exp": lambda t: (t * 0.1).exp(),
    "tanh": lambda t: t.tanh(),
    "square": lambda t: t.square(),
    "sigmoid": lambda t: t.sigmoid(),
    "softmax": lambda t: t.softmax(-1),
}
BINARY = {
    "mul": lambda a, b: a * b,
    "add": lambda a, b: a + b,
    "matmul": lambda a, b: a @ b,
    "maximum": lambda a, b: a.maximum(b),
    "linear": lambda a, b: tg.functional.linear(a, b),
}

programs = st.lists(
    st.one_of(st.tuples(st.sampled_from(sorted(UNARY)), st.integers(0, 99)),
              st.tuples(st.sampled_from(sorted(BINARY)), st.integers(0, 99),
                        st.integers(0, 99))),
    min_size=1, max_size=12)
endings = st.sampled_from(["backward", "drop", "retain_graph twice", "retain_graph, drop",
                           "two roots"])


def flags(arrays: dict) -> dict:
    return {name: a.flags.writeable for name, a in arrays.items()}


def saved_arrays(roots: list) -> list:
    """Every ndarray saved by a node of the graphs below ``roots``."""
    seen, stack, out = set(), [t._ctx for t in roots if t._ctx is not None], []
    while stack:
        ctx = stack.pop()
        if id(ctx) in seen:
            continue
        seen.add(id(ctx))
        if ctx.saved is not None and ctx.saved is not FREED:
            out += [a for a in ctx.saved if isinstance(a, np.ndarray)]
        stack += [p._ctx for p in ctx.parents if isinstance(p, tg.Tensor) and p._ctx]
    return out


def run(program: list, ending: str, arrays: dict, needs: list) -> None:
    """Build the graph of ``program`` on leaves made from ``arrays``, check that what it
    saved is protected, then end it as ``ending`` says (its locals die on return)."""
    square = [a for a in arrays.values() if a.shape == (4, 4)]
    leaves = [tg.Tensor(a, requires_grad=need) for a, need in zip(square, needs)]
    pool = leaves + [tg.Tensor(arrays["base"], requires_grad=True)]  # the same array twice
    for op, *picks in program:
        args = [pool[i % len(pool)] for i in picks]
        pool.append((UNARY if len(args) == 1 else BINARY)[op](*args))
    roots = [t for t in pool if t.requires_grad and t._ctx is not None]
    for a in saved_arrays(roots):  # the protection: saved memory cannot be written
        if a.flags.writeable:  # only a private copy (of memory NumPy does not own)
            assert not any(np.shares_memory(a, u) for u in arrays.values())
        else:
            owner = a if a.base is None else a.base
            assert not owner.flags.writeable or not isinstance(owner, np.ndarray)
    if not roots:
        return
    loss = sum(t.sum() for t in roots[-2:])
    if ending == "backward":
        loss.backward()
    elif ending == "retain_graph twice":
        loss.backward(retain_graph=True)
        loss.backward()
    elif ending == "retain_graph, drop":
        loss.backward(retain_graph=True)
    elif ending == "two roots":
        roots[-1].sum().backward(retain_graph=True)
        roots[0].sum().backward()


@given(seed=st.integers(0, 2**32 - 1), program=programs, ending=endings,
       needs=st.lists(st.booleans(), min_size=8, max_size=8))
def test_every_program_restores_the_writeable_flags_exactly(seed, program, ending, needs):
    arrays = user_arrays(seed)
    before = flags(arrays)
    with Unraisables() as seen:
        run(program, ending, arrays, needs)
        after = flags(arrays)  # the graph is gone: everything as it was
    assert seen == []
    assert after == before


def test_matmul_of_a_leaf_with_its_transpose_leaves_it_writeable():
    x = tg.Tensor(np.random.default_rng(0).standard_normal((4, 3)), requires_grad=True)
    with Unraisables() as seen:
        (x.T @ x).sum().backward()  # saves the view x.T before x itself
    assert seen == []
    assert x.data.flags.writeable
    x.data -= 0.1 * x.grad  # the course's hand-written update


def test_a_saved_view_guards_its_base_and_the_base_guards_the_view():
    base = np.array([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]])
    view = base[:, 1:]
    w = tg.Tensor(view, requires_grad=True)
    loss = (w * w).sum()
    for a in (base, view):
        with pytest.raises(ValueError, match="read-only"):
            a[0, 0] = 7.0
    loss.backward()
    np.testing.assert_array_equal(w.grad, 2 * base[:, 1:])
    assert base.flags.writeable and view.flags.writeable


def test_memory_numpy_does_not_own_is_copied_not_locked():
    owner = np.arange(4.0)
    foreign = np.from_dlpack(owner)  # its base is a capsule: once locked, locked for good
    x = tg.Tensor(foreign, requires_grad=True)
    with Unraisables() as seen:
        loss = (x * x).sum()
        assert foreign.flags.writeable
        foreign[0] = 100.0  # does not reach the graph: it saved a copy
        loss.backward()
        np.testing.assert_array_equal(x.grad, [0.0, 2.0, 4.0, 6.0])
        y = (x.exp() * 2).sum()  # dropped without backward
        del y
    assert seen == []
    assert foreign.flags.writeable and x.data is foreign


def test_a_writeable_view_of_a_read_only_base_is_copied_not_locked():
    base = np.arange(3.0)
    view = base[:]
    base.setflags(write=False)  # view stays writeable, but could not become so again
    x = tg.Tensor(view, requires_grad=True)
    loss = (x * x).sum()
    view[0] = 50.0  # what the user may do with it; the graph kept its own copy
    loss.backward()
    np.testing.assert_array_equal(x.grad, [0.0, 2.0, 4.0])
    assert view.flags.writeable and not base.flags.writeable


EXIT_SCRIPT = """
import numpy as np
import tinygrad_ng as tg

x = tg.Tensor(np.ones((3, 2)), requires_grad=True)
kept = [x.T @ x, (x * x).sum(), tg.Tensor(np.from_dlpack(np.ones(2)), requires_grad=True).exp()]
print("built")
"""


def test_graphs_alive_at_interpreter_exit_are_freed_silently(tmp_path):
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent(EXIT_SCRIPT))
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "built"
    assert run.stderr == ""


class AddOneInPlace(tg.Function):
    """A user op that (wrongly) writes into its input."""

    @staticmethod
    def forward(ctx, x):
        x += 1
        return x

    @staticmethod
    def backward(ctx, g):
        return g


def test_a_write_into_a_saved_array_inside_an_op_says_why():
    w = tg.Tensor(np.ones(2), requires_grad=True)
    y = (w * w).sum()  # saves w.data
    with pytest.raises(ValueError, match=r"AddOneInPlace: .*read-only \(an array saved for "
                                         r"backward .* call backward\(\) first"):
        AddOneInPlace.apply(w)
    y.backward()
    assert AddOneInPlace.apply(w).data.tolist() == [2.0, 2.0]  # after backward it may
