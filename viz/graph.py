"""``draw_graph``: a computation graph drawn the way the course draws it.

Every tensor is one node: leaves are rounded boxes coloured by kind (input data, leaf that
requires grad, constant), op outputs are ellipses titled like ``u = b · c``. Nodes
show shape, value and gradient; edges run forward, from an op's input to its output, and
carry the local derivative (``∂u/∂b = c``) and, after backward, the gradient that flowed
back along them. The result is a ``graphviz.Digraph``: it shows inline in Jupyter, and
:func:`save` writes it as SVG, PNG or PDF.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Container, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import graphviz
import numpy as np

from tinygrad_ng import random
from tinygrad_ng.autograd import enable_grad, unbroadcast
from tinygrad_ng.function import Function
from tinygrad_ng.tensor import Tensor

from . import dot as D
from . import labels as L
from .check import check_graph
from .walk import consumers, nearest_first, node_of, tensor_parents, topological_order, uses

INSTALL_GRAPHVIZ = (
    "Install it with `sudo apt-get install graphviz` (Debian/Ubuntu), `brew install graphviz` "
    "(macOS), `conda install graphviz` (conda) or from https://graphviz.org/download/")
INSTALL_HINT = (
    "rendering a drawing needs the Graphviz 'dot' program, which was not found on PATH. "
    f"{INSTALL_GRAPHVIZ}; the DOT source (`graph.source`) is available without it")


@contextmanager
def _dot_errors() -> Iterator[None]:
    try:
        yield
    except graphviz.ExecutableNotFound as e:
        raise RuntimeError(INSTALL_HINT) from e


class GraphDrawing(graphviz.Digraph):
    """A ``graphviz.Digraph`` whose rendering says how to install Graphviz when ``dot`` is
    missing."""

    def pipe(self, *args, **kwargs):
        with _dot_errors():
            return super().pipe(*args, **kwargs)

    def render(self, *args, **kwargs):
        with _dot_errors():
            return super().render(*args, **kwargs)


# ----------------------------------------------------------------------------- styles
FONT = "Helvetica"
STYLE = {
    L.INPUT: {"shape": "box", "style": "rounded,filled", "fillcolor": "#dbeafe",
              "color": "#2563eb"},
    L.PARAMETER: {"shape": "box", "style": "rounded,filled", "fillcolor": "#ede9fe",
                  "color": "#7c3aed"},
    L.CONSTANT: {"shape": "box", "style": "rounded,filled", "fillcolor": "#f1f5f9",
                 "color": "#94a3b8", "fontsize": "10"},
    L.OP: {"shape": "ellipse", "style": "filled", "fillcolor": "#fff7ed", "color": "#9a3412"},
}
CHECK_STYLE = {
    "green": {"fillcolor": "#dcfce7", "color": "#16a34a", "penwidth": "2"},
    "amber": {"fillcolor": "#fef3c7", "color": "#d97706", "penwidth": "2"},
    "red": {"fillcolor": "#fee2e2", "color": "#dc2626", "penwidth": "2"},
}
CHECK_MARK = {"green": "✓", "amber": "~", "red": "✗"}
CURRENT_STYLE = {"color": "#ea580c", "penwidth": "3"}
MODULE_STYLE = {"shape": "box", "style": "rounded,filled,bold", "fillcolor": "#ecfeff",
                "color": "#0e7490"}
EDGE_COLOR = "#475569"
SUMMED_COLOR = "#0f766e"
NO_GRAD_EDGE = {"style": "dashed", "color": "#94a3b8"}


# ----------------------------------------------------------------------------- gradients
def edge_gradients(nodes: list[Tensor], grads: dict[int, np.ndarray | None],
                   summed: dict[tuple[int, int], tuple[int, ...]] | None = None
                   ) -> dict[tuple[int, int], np.ndarray]:
    """The gradient each edge carried back: ``(id(child), slot)`` → ∂J/∂child · ∂child/∂parent.

    Recomputed with the op's own backward from the child's gradient, summed to the parent's
    shape. Where that sum did something (the forward broadcast the parent, as ``Z = XW + b``
    broadcasts ``b`` over the batch), ``summed`` (when given) receives the edge and the axes
    of the op's gradient that were summed. A node whose saved arrays a backward without
    ``retain_graph=True`` freed is run again on its inputs' values first (:func:`rerun`);
    one that does not give the same output again (a random op, an input changed since) is
    skipped.
    """
    out: dict[tuple[int, int], np.ndarray] = {}
    for t in nodes:
        g = grads.get(id(t))
        ctx = t._ctx
        if g is None or ctx is None:
            continue
        ctx = rerun(t) if ctx.freed else ctx
        if ctx is None:
            continue
        sent = ctx.backward(ctx, g)
        sent = sent if isinstance(sent, tuple) else (sent,)
        for slot, (p, need, pg) in enumerate(zip(ctx.parents, ctx.needs_input_grad, sent)):
            if need and pg is not None:
                pg = np.asarray(pg)
                out[(id(t), slot)] = unbroadcast(pg, p.shape)
                axes = broadcast_axes(pg.shape, p.shape) or _summed_inside(ctx, slot, t, p)
                if axes and summed is not None:
                    summed[(id(t), slot)] = axes
    return out


def broadcast_axes(grad_shape: tuple[int, ...], shape: tuple[int, ...]) -> tuple[int, ...]:
    """The axes of a gradient of shape ``grad_shape`` that :func:`unbroadcast` sums to reach
    ``shape``: the leading extra ones and those where ``shape`` has 1."""
    extra = len(grad_shape) - len(shape)
    return tuple(range(extra)) + tuple(
        extra + i for i, n in enumerate(shape) if n == 1 and grad_shape[extra + i] != 1)


def _summed_inside(ctx: Function, slot: int, child: Tensor, p: Tensor) -> tuple[int, ...]:
    """The broadcast axes of an operand that an op adds to its output elementwise (local
    derivative ``1`` or ``-1``) and whose backward sums the gradient itself, as the fused
    ``linear``'s bias: ``db = Σ over the batch``; () for any other operand."""
    formulas = type(ctx).derivatives
    formula = formulas[min(slot, len(formulas) - 1)] if formulas else None
    if formula not in ("1", "-1") or p.shape == child.shape:
        return ()
    try:
        broadcast = np.broadcast_shapes(p.shape, child.shape) == child.shape
    except ValueError:
        return ()
    return broadcast_axes(child.shape, p.shape) if broadcast else ()


def summed_text(axes: tuple[int, ...]) -> str:
    """``Σ axis 0`` / ``Σ axes 0, 1``: how an edge says its gradient was summed."""
    return f"Σ axis{'es' * (len(axes) > 1)} {', '.join(map(str, axes))} (broadcast)"


def rerun(t: Tensor) -> Function | None:
    """``t``'s op applied again to copies of its inputs' values, as a fresh node holding its
    saved arrays; None when the op fails, draws random numbers (dropout's mask is an
    argument, drawn before the op) or does not reproduce ``t``'s value exactly (an input
    may have been changed since)."""
    ctx = t._ctx
    args = [Tensor(p.data.copy(), requires_grad=need) if isinstance(p, Tensor) else p
            for p, need in zip(ctx.parents, ctx.needs_input_grad)]
    state = random.get_state()
    try:
        with enable_grad(), np.errstate(all="ignore"):
            again = type(ctx).apply(*args, **ctx.kwargs)
    except Exception:  # noqa: BLE001  (a user's op may refuse anything: then no edge values)
        return None
    finally:
        drew = not _same(random.get_state(), state)
        random.set_state(state)
    same = not drew and again.data.dtype == t.data.dtype and np.array_equal(
        again.data, t.data, equal_nan=t.data.dtype.kind in "fc")
    return again._ctx if same else None


def _same(a: Any, b: Any) -> bool:
    """Equality of two random states (nested dicts of ints and, for NumPy's global
    generator, arrays)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.array_equal(a, b)
    return a == b


def known_edges(pic: Picture) -> dict[tuple[int, int], np.ndarray]:
    """Edge gradients known without recomputing anything: a tensor with a gradient that is
    used once in the whole graph sent all of it along that one edge (``a → a·b`` carries
    ``a.grad``)."""
    out = {}
    for t in pic.nodes:
        g = pic.grads.get(id(t))
        edges = pic.uses.get(id(t), ())
        if g is not None and len(edges) == 1:
            out[edges[0]] = g
    return out


def accumulated(pic: Picture) -> dict[int, np.ndarray]:
    """Leaves whose ``.grad`` is not what this graph's edges brought them (gradients summed
    over several backward() calls): ``id`` → what the edges brought. A leaf with an edge of
    unknown gradient cannot be checked and is left out."""
    out = {}
    for t in pic.nodes:
        g = pic.grads.get(id(t))
        edges = pic.uses.get(id(t), ())
        if t._ctx is not None or g is None or not edges or \
                any(e not in pic.edge_grads for e in edges):
            continue
        brought = sum(pic.edge_grads[e] for e in edges)
        with np.errstate(all="ignore"):
            scale = float(np.max(np.abs(brought), initial=0))
            if not np.allclose(g, brought, rtol=1e-5, atol=1e-6 * scale, equal_nan=True):
                out[id(t)] = brought
    return out


def parameter_names(names: Any) -> dict[int, str]:
    """``id(tensor)`` → name, from a model (anything with ``named_parameters()``), a dict
    ``{name: tensor}`` or ``(name, tensor)`` pairs; for drawings only (no tensor is renamed)."""
    if names is None:
        return {}
    if hasattr(names, "named_parameters"):
        names = names.named_parameters()
    pairs = names.items() if isinstance(names, Mapping) else names
    out = {}
    for name, t in pairs:
        if not isinstance(t, Tensor):
            raise TypeError(f"draw_graph: names must map names to Tensors; {name!r} is a "
                            f"{type(t).__name__}")
        out[id(t)] = str(name)
    return out


def module_types(model: Any) -> dict[str, str]:
    """Scope name → class name of each submodule of an ``nn.Module`` (else empty), so
    clusters read ``0: Linear`` rather than ``0``."""
    if not hasattr(model, "named_modules"):
        return {}
    return {path or type(m).__name__: type(m).__name__ for path, m in model.named_modules()}


class Picture:
    """The pieces of one drawing; :func:`draw_graph` and the backprop steps fill it in."""

    def __init__(self, root: Tensor, max_nodes: int | None = None, names: Any = None) -> None:
        if not isinstance(root, Tensor):
            raise TypeError(f"draw_graph: expected a Tensor, got {type(root).__name__}")
        if max_nodes is not None and max_nodes < 1:
            raise ValueError(f"draw_graph: max_nodes must be at least 1, got {max_nodes}")
        self.root = root
        self.labels = L.Labels(parameter_names(names))
        self.module_types = module_types(names)
        everything = nearest_first(root)
        self.nodes = everything[:max_nodes] if max_nodes else everything
        self.hidden = len(everything) - len(self.nodes)
        self.ids = {id(t): f"n{i}" for i, t in enumerate(self.nodes)}
        self.labels.number(topological_order(root, within=self.ids))
        self.used_by = consumers(self.nodes)
        #: every use of each tensor in the whole graph, as the edge ``(id(child), slot)``
        self.uses = uses(everything)
        #: a constant used by several ops is drawn next to each of them, not once with long
        #: edges across the picture: the ids of such constants, and the node of each use
        self.shared = list(self._shared_constants())
        self.copied = {id(c) for _, _, c in self.shared}
        self.copies = {(id(child), slot): f"{self.ids[id(c)]}_{i}"
                       for i, (child, slot, c) in enumerate(self.shared)}
        #: the gradients printed on nodes, by tensor id (None: not available)
        self.grads: dict[int, np.ndarray | None] = {}
        self.edge_grads: dict[tuple[int, int], np.ndarray] = {}
        #: edges whose gradient was summed over the axes the forward broadcast the parent to
        self.summed: dict[tuple[int, int], tuple[int, ...]] = {}
        #: after rendering: tensor id → the DOT node it is drawn as (its own, or a module box)
        self.placed: dict[int, str] = {}
        #: text printed for a node that should have a gradient but has none
        self.missing_grad: Callable[[Tensor], str] = lambda t: "grad: —"
        #: how a gradient row is introduced (``grad = `` or ``∂J/∂u = ``)
        self.grad_name: Callable[[Tensor], str] = lambda t: "grad = "
        #: text printed instead of a node's gradient (one that the picture cannot explain)
        self.grad_text: dict[int, str] = {}
        #: extra lines for the legend
        self.notes: list[str] = []
        self.checks: dict[int, str] = {}       # id → "green" / "amber" / "red"
        self.check_text: dict[int, str] = {}   # id → the check's result, printed on the node
        self.current: int | None = None        # id of the node highlighted in a step
        self.title: str | None = None

    def _shared_constants(self) -> Iterator[tuple[Tensor, int, Tensor]]:
        """``(consumer, slot, constant)`` for each use of a constant used more than once."""
        for t in self.nodes:
            if len(self.used_by[id(t)]) > 1 and self.labels.kind(t) == L.CONSTANT:
                for child in dict.fromkeys(self.used_by[id(t)]):
                    for slot, p in enumerate(node_of(child).parents):
                        if p is t:
                            yield child, slot, t

    # ------------------------------------------------------------------ one node
    def node_attrs(self, t: Tensor, show_values: bool, show_grads: bool) -> dict[str, str]:
        kind = self.labels.kind(t)
        attrs = dict(STYLE[kind])
        head = self.labels.title(t)
        rows = [f"<B>{L.esc(head)}</B>"]
        what = node_of(t).op_name if kind == L.OP else kind
        rows.append(f'<FONT POINT-SIZE="9" COLOR="{L.MUTED_COLOR}">'
                    f"{L.esc(what)} · {L.esc(L.shape_text(t))}</FONT>")
        if show_values and kind != L.CONSTANT:
            rows.append(L.lines("value = " + L.array_text(t.data)))
        if show_grads and id(t) in self.grad_text:
            rows.append(f'<FONT COLOR="{L.MUTED_COLOR}">{L.lines(self.grad_text[id(t)])}</FONT>')
        elif show_grads and t.requires_grad:
            g = self.grads.get(id(t))
            text = self.grad_name(t) + L.array_text(g) if g is not None else self.missing_grad(t)
            color = L.GRAD_COLOR if g is not None else L.MUTED_COLOR
            rows.append(f'<FONT COLOR="{color}">{L.lines(text)}</FONT>')
        status = self.checks.get(id(t))
        if status is not None:
            attrs.update(CHECK_STYLE[status])
        if id(t) in self.check_text:
            rows.append(f"<B>{L.esc(self.check_text[id(t)])}</B>")
        if id(t) == self.current:
            attrs.update(CURRENT_STYLE)
        if t is self.root:
            attrs["peripheries"] = "2"
        cells = "".join(f'<TR><TD ALIGN="LEFT" BALIGN="LEFT">{r}</TD></TR>' for r in rows)
        attrs["label"] = D.Html(f'<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0">{cells}</TABLE>')
        attrs["tooltip"] = L.visible(head)
        return attrs

    # ------------------------------------------------------------------ one edge
    def edge_attrs(self, child: Tensor, slot: int, show_formulas: bool,
                   show_grads: bool) -> dict[str, str]:
        ctx = node_of(child)
        if not ctx.needs_input_grad[slot]:
            return dict(NO_GRAD_EDGE)
        rows = []
        if show_formulas:
            formula = self.labels.edge_formula(child, slot)
            if formula:
                rows.append(L.esc(formula))
        g = self.edge_grads.get((id(child), slot)) if show_grads else None
        if g is not None:
            text = "grad = " + L.array_text(g, L.WHOLE_EDGE_VALUES)
            rows.append(f'<FONT COLOR="{L.GRAD_COLOR}">{L.lines(text)}</FONT>')
        axes = self.summed.get((id(child), slot)) if show_grads else None
        if axes:
            rows.append(f'<FONT COLOR="{SUMMED_COLOR}">{L.esc(summed_text(axes))}</FONT>')
        attrs = {"color": EDGE_COLOR}
        if rows:
            attrs["label"] = D.Html("<BR/>".join(rows))
        if self.current is not None and id(ctx.parents[slot]) == self.current:
            attrs.update(CURRENT_STYLE)  # the edges a step's chain-rule sum reads
        return attrs

    # ------------------------------------------------------------------ grouping
    def scope_of(self, t: Tensor) -> str | None:
        """The module that produced ``t``; a parameter or constant joins its consumers'
        module when they all share one."""
        ctx = node_of(t)
        if ctx is not None:
            return ctx.scope
        if self.labels.kind(t) == L.INPUT:
            return None
        scopes = {node_of(c).scope for c in self.used_by[id(t)]}
        return scopes.pop() if len(scopes) == 1 else None


def _truncate(scope: str | None, depth: int | None) -> str | None:
    if scope is None or depth is None:
        return scope
    return ".".join(scope.split(".")[:depth])


def _new_graph(rankdir: str, title: str | None) -> GraphDrawing:
    g = GraphDrawing(name="computation_graph", format="svg")
    g.attr(rankdir=rankdir, bgcolor="white", fontname=FONT, nodesep="0.3", ranksep="0.45")
    if title:
        g.attr(label=graphviz.nohtml(L.visible(title)), labelloc="t", fontsize="14")
    g.attr("node", fontname=FONT, fontsize="11", margin="0.08,0.04")
    g.attr("edge", fontname=FONT, fontsize="9", arrowsize="0.7")
    return g


def render_picture(pic: Picture, show_values: bool = True, show_grads: bool = True,
                   show_formulas: bool = True, rankdir: str = "LR",
                   collapse_modules: bool | int = False, legend: bool = True,
                   expanded: Container[str] = ()) -> GraphDrawing:
    """Turn a :class:`Picture` into DOT: one line per node and edge, linear time.

    With ``collapse_modules``, the modules named in ``expanded`` stay drawn node by node.
    ``pic.placed`` records where each tensor was drawn."""
    g = _new_graph(rankdir, pic.title)
    collapse = collapse_modules is not False
    depth = None if isinstance(collapse_modules, bool) else collapse_modules
    scope = {id(t): _truncate(pic.scope_of(t), depth) for t in pic.nodes}

    # where each tensor is drawn: its own node, or (collapsed) its module's box
    rep = dict(pic.ids)
    if collapse:
        boxes: dict[str, str] = {}
        members: dict[str, list[Tensor]] = {}
        for t in pic.nodes:
            s = scope[id(t)]
            if s is not None and s not in expanded and t is not pic.root and \
                    id(t) not in pic.copied:
                rep[id(t)] = boxes.setdefault(s, f"m{len(boxes)}")
                members.setdefault(s, []).append(t)
        g.body += [D.node(boxes[s], _module_box(s, ts, rep, pic)) for s, ts in members.items()]
    pic.placed = rep

    by_scope: dict[str | None, list[str]] = {}
    for t in pic.nodes:
        if rep[id(t)] == pic.ids[id(t)] and id(t) not in pic.copied:
            line = D.node(pic.ids[id(t)], pic.node_attrs(t, show_values, show_grads))
            by_scope.setdefault(_cluster_of(scope[id(t)], collapse, expanded), []).append(line)
    for child, slot, constant in pic.shared:
        if rep[id(child)] == pic.ids[id(child)]:  # (else: inside the child's module box)
            line = D.node(pic.copies[(id(child), slot)],
                          pic.node_attrs(constant, show_values, show_grads))
            by_scope.setdefault(_cluster_of(scope[id(child)], collapse, expanded),
                                []).append(line)
    g.body += by_scope.pop(None, [])
    g.body += _clusters(by_scope, pic.module_types)

    between_boxes: set[tuple[str, str]] = set()
    for child in pic.nodes:
        ctx = node_of(child)
        if ctx is None:
            continue
        for slot, p in enumerate(ctx.parents):
            if not isinstance(p, Tensor) or id(p) not in pic.ids:
                continue
            copy = pic.copies.get((id(child), slot))  # (a constant drawn once per use)
            a, b = copy or rep[id(p)], rep[id(child)]
            if b == pic.ids[id(child)] and (copy or a == pic.ids[id(p)]):
                g.body.append(D.edge(a, b, pic.edge_attrs(child, slot, show_formulas,
                                                          show_grads)))
            elif copy is None and a != b and (a, b) not in between_boxes:  # module boxes
                between_boxes.add((a, b))
                g.body.append(D.edge(a, b, {"label": L.shape_text(p).split()[0],
                                            "color": EDGE_COLOR}))

    if pic.hidden:
        g.body.append(D.node("more", {
            "label": f"… {pic.hidden} more nodes", "shape": "box", "style": "rounded,dashed",
            "color": "#94a3b8", "fontcolor": L.MUTED_COLOR}))
        cut = {rep[id(t)] for t in pic.nodes
               if any(id(p) not in pic.ids for p in tensor_parents(t))}
        g.body += [D.edge("more", target, {"style": "dashed", "color": "#94a3b8"})
                   for target in sorted(cut)]
    if legend:
        g.body += _legend(pic, collapse)
    return g


def _cluster_of(scope: str | None, collapse: bool, expanded: Container[str]) -> str | None:
    """The cluster a drawn node goes in: its module's, unless modules are collapsed and its
    module is not one of the ``expanded`` ones."""
    return scope if not collapse or scope in expanded else None


def _clusters(by_scope: dict[str, list[str]], types: dict[str, str]) -> list[str]:
    """Nested clusters, one per module (``net.layer1`` inside ``net``), around node lines."""
    children: dict[str, list[str]] = {}
    for s in by_scope:
        parts = s.split(".")
        for i in range(1, len(parts)):
            parent, child = ".".join(parts[:i]), ".".join(parts[:i + 1])
            if child not in children.setdefault(parent, []):
                children[parent].append(child)
    counter = iter(range(len(by_scope) + len(children) + 1))

    def cluster(s: str, level: int) -> list[str]:  # recursion depth = module nesting
        body = list(by_scope.get(s, []))
        for sub in children.get(s, []):
            body += cluster(sub, level + 1)
        return D.subgraph(f"cluster_{next(counter)}", {
            "label": L.visible(_module_label(s.split(".")[-1], types.get(s))),
            "tooltip": L.visible(s),
            "style": "rounded,filled",
            "fillcolor": "#f8fafc" if level % 2 == 0 else "#eef2f7", "color": "#94a3b8",
            "fontname": FONT, "fontsize": "11", "labeljust": "l"}, body)

    return [line for top in sorted({s.split(".")[0] for s in by_scope})
            for line in cluster(top, 0)]


def _module_label(name: str, type_name: str | None) -> str:
    return f"{name}: {type_name}" if type_name and type_name != name else name


def _module_box(scope: str, members: list[Tensor], rep: dict[int, str],
                pic: Picture) -> dict[str, str]:
    """One box standing for all the nodes a module produced."""
    ops = Counter(ctx.op_name for t in members if (ctx := node_of(t)) is not None)
    params = [t for t in members if t._ctx is None and t.requires_grad]
    me = rep[id(members[0])]
    outputs = [t for t in members
               if any(rep[id(c)] != me for c in pic.used_by[id(t)])]
    rows = [f"<B>{L.esc(_module_label(scope, pic.module_types.get(scope)))}</B>",
            L.esc(", ".join(f"{op} ×{n}" if n > 1 else op for op, n in ops.items()))]
    if params:
        size = sum(p.size for p in params)
        rows.append(L.esc(f"{len(params)} parameter tensor{'s' * (len(params) > 1)}, "
                          f"{size} values"))
    if outputs:
        rows.append(L.esc("out " + ", ".join(L.shape_text(t) for t in outputs)))
    cells = "".join(f"<TR><TD>{r}</TD></TR>" for r in rows)
    return {**MODULE_STYLE, "label": D.Html(f'<TABLE BORDER="0" CELLSPACING="0">{cells}</TABLE>'),
            "tooltip": L.visible(scope)}


def _legend(pic: Picture, collapse: bool) -> list[str]:
    """A small cluster explaining colours, shapes and edge labels."""
    items = [("input (data)", STYLE[L.INPUT]),
             ("leaf (requires grad)", STYLE[L.PARAMETER]),
             ("constant", STYLE[L.CONSTANT]),
             ("op output (ellipse)", STYLE[L.OP])]
    if collapse:
        items.append(("module (collapsed)", MODULE_STYLE))
    if pic.checks:
        items += [(f"gradient check {CHECK_MARK[k]} {text}",
                   {**STYLE[L.PARAMETER], **CHECK_STYLE[k]})
                  for k, text in (("green", "< 1e-6"), ("amber", "< 1e-3"), ("red", "≥ 1e-3"))]
    if pic.current is not None:
        items.append(("gradient being computed", {**STYLE[L.OP], **CURRENT_STYLE}))
    cells = "".join(
        f'<TR><TD STYLE="rounded" BGCOLOR="{style["fillcolor"]}" COLOR="{style["color"]}" '
        f'BORDER="{1 + (style.get("penwidth") == "3")}">{L.esc(text)}</TD></TR>'
        for text, style in items)
    notes = ("edge: local derivative ∂out/∂in", "grad = gradient flowing back",
             "dashed edge: no gradient needed", *pic.notes)
    cells += "".join(f'<TR><TD ALIGN="LEFT">{L.esc(n)}</TD></TR>' for n in notes)
    table = D.Html(f'<TABLE BORDER="0" CELLSPACING="3" CELLPADDING="2">{cells}</TABLE>')
    return D.subgraph("cluster_legend", {
        "label": "legend", "style": "rounded,dashed", "color": "#cbd5e1", "fontsize": "10",
        "fontname": FONT}, [D.node("legend", {"shape": "plaintext", "fontsize": "9",
                                              "label": table})])


# ----------------------------------------------------------------------------- public API
def draw_graph(root: Tensor, show_values: bool = True, show_grads: bool = True,
               show_formulas: bool = True, rankdir: str = "LR", max_nodes: int | None = None,
               collapse_modules: bool | int = False, check: bool = False,
               legend: bool = True, title: str | None = None, names: Any = None
               ) -> GraphDrawing:
    """Draw the computation graph that produced ``root``.

    - ``show_values`` / ``show_grads`` / ``show_formulas``: what nodes and edges print.
      Arrays of up to 16 elements are printed whole, bigger ones as mean/min/max; numbers
      have 4 significant digits, and an element below the last digit shown of its array's
      largest prints as 0. Gradients on nodes are the tensors' ``.grad``; an edge shows the
      gradient that flowed back along it where that is known: after a plain ``backward()``,
      on the edge out of each tensor used once (it carried the tensor's whole gradient);
      after ``backward(retain_grads=True)`` on every edge (the op is run again on its
      inputs' values when backward freed what it saved; a random op needs
      ``retain_graph=True`` too). The legend says once how to see what is not shown. A
      leaf whose ``.grad`` differs from what this graph's edges brought it (gradients summed
      over several backward() calls) says so, and shows what the edges brought. An edge
      whose operand the forward broadcast (a bias added to every row of a batch) is marked
      with the axes its gradient was summed over, e.g. ``Σ axis 0 (broadcast)``.
    - A constant used by several ops is drawn next to each of them.
    - A constant computed from a named tensor is drawn as written: with
      ``y = Tensor(1.0, name="y")``, ``1 - y`` is the op node ``1 − y`` (value 0) with
      dashed edges from ``1`` and ``y``, not a constant 0 (up to 8 ops deep; it is still a
      leaf that needs no gradient). An expression of unnamed constants shows its value.
    - ``rankdir``: ``"LR"`` (left to right, as the course draws) or ``"TB"``.
    - ``max_nodes``: draw only the nodes closest to the output, plus a
      "… N more nodes" marker.
    - ``collapse_modules``: ``True`` draws each ``nn.Module`` (its innermost scope) as one
      box; an int ``k`` groups by the first ``k`` parts of the dotted module name. By default
      modules are drawn as clusters around their nodes.
    - ``check``: gradient-check every leaf that requires grad against finite differences
      and colour it green (relative difference < 1e-6), amber (< 1e-3) or red. A root that
      is itself a leaf has no graph to check: it is drawn uncoloured, with a note saying so.
    - ``legend``: a small legend; ``title``: a caption.
    - ``names``: names for unnamed tensors, e.g. ``names=model`` labels each parameter by
      its path (``0.weight``) and each module cluster by its class (``0: Linear``); also a
      dict ``{name: tensor}`` or ``(name, tensor)`` pairs.
    """
    if rankdir not in RANKDIRS:
        raise ValueError(f"draw_graph: rankdir must be one of {', '.join(RANKDIRS)}, got "
                         f"{rankdir!r}")
    if collapse_modules is not True and collapse_modules is not False and \
            (not isinstance(collapse_modules, int) or collapse_modules < 1):
        raise ValueError(f"draw_graph: collapse_modules must be True, False or a depth >= 1, "
                         f"got {collapse_modules!r}")
    pic = Picture(root, max_nodes, names)
    pic.grads = {id(t): t.grad for t in pic.nodes}
    if show_grads:
        _gradients(pic, legend)
    if check and root._ctx is None:  # nothing was computed, so there is nothing to check
        pic.check_text[id(root)] = "check: nothing to check (a leaf, not a graph)"
    elif check:
        for c in check_graph(root):
            if id(c.leaf) in pic.ids:
                pic.checks[id(c.leaf)] = c.status
                pic.check_text[id(c.leaf)] = (f"check {CHECK_MARK[c.status]} relative "
                                              f"difference {c.relative_difference:.1e}")
    pic.title = title
    return render_picture(pic, show_values, show_grads, show_formulas, rankdir,
                          collapse_modules, legend)


def _gradients(pic: Picture, legend: bool) -> None:
    """What a drawing after backward prints as gradients: on nodes their ``.grad``, on edges
    what flowed along them where that is known, and once, in the legend, how to see the rest.
    A leaf whose ``.grad`` is not what this graph's edges brought it says so instead."""
    pic.edge_grads = edge_gradients(pic.nodes, pic.grads, pic.summed)
    for i, brought in accumulated(pic).items():
        pic.grad_text[i] = ("grad: .grad also holds other backward() calls (zero it before\n"
                            f"backward); this graph's edges brought {L.array_text(brought)}")
    for edge, g in known_edges(pic).items():
        pic.edge_grads.setdefault(edge, g)
    root = pic.root
    if not any(g is not None for g in pic.grads.values()) and \
            (root._ctx is None or not root._ctx.freed):
        pic.missing_grad = lambda t: "grad: not computed yet, call backward()"
        return
    retained = any(pic.grads[id(t)] is not None for t in pic.nodes if t._ctx is not None)
    keep = "backward(retain_graph=True, retain_grads=True)" if retained else \
        "backward(retain_grads=True)"
    pic.missing_grad = lambda t: "grad: not retained" + ("" if legend else f", use {keep}")
    unknown = any(
        need and isinstance(p, Tensor) and id(p) in pic.ids and (id(t), slot) not in
        pic.edge_grads
        for t in pic.nodes if t._ctx is not None
        for slot, (p, need) in enumerate(zip(t._ctx.parents, t._ctx.needs_input_grad)))
    if unknown or any(pic.grads[id(t)] is None for t in pic.nodes if t._ctx is not None):
        pic.notes.append(f"no grad shown: {keep} keeps it")


RANKDIRS = ("LR", "TB", "RL", "BT")
FORMATS = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": "dot", ".gv": "dot"}


def save(graph_or_root: graphviz.Digraph | Tensor, path: str | Path, **draw_kwargs) -> Path:
    """Write a drawing (or the drawing of a tensor's graph) to ``path``.

    The format follows the extension: ``.svg``, ``.png``, ``.pdf``, or ``.dot``/``.gv``
    for the DOT source (which needs no Graphviz install). ``draw_kwargs`` go to
    :func:`draw_graph` when a tensor is given.
    """
    path = Path(path)
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(f"save: unknown extension {path.suffix!r} in {str(path)!r}; use one "
                         f"of {', '.join(FORMATS)}")
    if isinstance(graph_or_root, Tensor):
        graph = draw_graph(graph_or_root, **draw_kwargs)
    elif draw_kwargs:
        raise TypeError(f"save: options {sorted(draw_kwargs)} apply only when a Tensor is "
                        "given; this is already a drawing")
    else:
        graph = graph_or_root
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "dot":
        path.write_text(graph.source, encoding="utf-8")
    else:
        with _dot_errors():
            path.write_bytes(graph.pipe(format=fmt))
    return path
