"""tinygrad_ng.viz: DOT content of drawings, rendering, grouping, gradient-check colours,
backprop frames and plots."""

from __future__ import annotations

import gc
import re
import sys
import weakref

import graphviz
import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given
from tinygrad_ng.viz import (
    GraphDrawing,
    backprop_steps,
    check_graph,
    course_example,
    draw_graph,
    plot_decision_boundary,
    plot_history,
    predicted_labels,
    save,
    save_steps,
)
from tinygrad_ng.viz.__main__ import main as viz_main
from tinygrad_ng.viz.walk import nearest_first, recorded_parents, topological_order

import tinygrad_ng as tg
from tinygrad_ng import Tensor
from tinygrad_ng.autograd import RECIPE_DEPTH, recipe, recipes, scope

NODE = re.compile(r"^\t+(\w+) \[(.*)\]$")
EDGE = re.compile(r"^\t+(\w+) -> (\w+) \[(.*)\]$")


def parse(graph: graphviz.Digraph) -> tuple[dict[str, str], list[tuple[str, str, str]]]:
    """Node id → attribute text, and (tail, head, attribute text) per edge."""
    nodes, edges = {}, []
    for line in graph.source.splitlines():
        if m := EDGE.match(line):
            edges.append(m.groups())
        elif (m := NODE.match(line)) and m.group(1) not in ("graph", "node", "edge"):
            nodes[m.group(1)] = m.group(2)
    return nodes, edges


def node_titled(nodes: dict[str, str], title: str) -> str:
    """The id of the one node whose bold headline is ``title``."""
    found = [n for n, attrs in nodes.items() if f"<B>{title}</B>" in attrs]
    assert len(found) == 1, (title, found)
    return found[0]


def edge_between(edges, tail: str, head: str) -> str:
    found = [attrs for a, b, attrs in edges if (a, b) == (tail, head)]
    assert len(found) == 1, (tail, head, edges)
    return found[0]


class BadCube(tg.Function):
    """x³ with a wrong derivative (2x instead of 3x²)."""

    derivatives = ("2x",)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 2 * x


class SlightlyOffSquare(tg.Function):
    """x² whose derivative is off by a factor 1 + 1e-4 (a 'suspicious' gradient)."""

    derivatives = ("2x(1 + 1e-4)",)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 2 * x * (1 + 1e-4)


# ----------------------------------------------------------------------------- the course graph
def test_course_example_values_and_gradients_on_nodes():
    J = course_example()
    nodes, _ = parse(draw_graph(J))
    # J = 3(a + bc), a = 5, b = 3, c = 2: u = 6, v = 11, J = 33; dJ/da = 3, dJ/db = 6, dJ/dc = 9
    expected = {"a": (5, 3), "b": (3, 6), "c": (2, 9), "u = b · c": (6, 3),
                "v = a + u": (11, 3), "J = 3 · v": (33, 1)}
    for title, (value, grad) in expected.items():
        attrs = nodes[node_titled(nodes, title)]
        assert f"value = {value}<" in attrs
        assert f"grad = {grad}<" in attrs


def test_course_example_edges_run_forward_with_formulas_and_edge_gradients():
    J = course_example()
    nodes, edges = parse(draw_graph(J))
    n = {k: node_titled(nodes, k) for k in ("a", "b", "c", "u = b · c", "v = a + u",
                                            "J = 3 · v", "3")}
    cases = [("b", "u = b · c", "∂u/∂b = c", 6), ("c", "u = b · c", "∂u/∂c = b", 9),
             ("a", "v = a + u", "∂v/∂a = 1", 3), ("u = b · c", "v = a + u", "∂v/∂u = 1", 3),
             ("v = a + u", "J = 3 · v", "∂J/∂v = 3", 3)]
    for tail, head, formula, grad in cases:
        attrs = edge_between(edges, n[tail], n[head])
        assert formula in attrs
        assert f"grad = {grad}<" in attrs
    # the constant 3 gets no gradient: a dashed edge without a formula
    const_edge = edge_between(edges, n["3"], n["J = 3 · v"])
    assert "dashed" in const_edge and "∂" not in const_edge
    assert len(edges) == 6


def test_node_gradients_match_the_tensors_after_backward():
    J = course_example()
    a, u = J._ctx.parents[1]._ctx.parents
    nodes, _ = parse(draw_graph(J))
    assert f"grad = {a.grad.item():g}<" in nodes[node_titled(nodes, "a")]
    assert f"grad = {u.grad.item():g}<" in nodes[node_titled(nodes, "u = b · c")]


def test_leaf_kinds_look_different_and_ops_are_ellipses():
    x = Tensor(np.ones((2, 2), np.float32), name="x")          # input data
    w = Tensor(np.ones((2, 2), np.float32), requires_grad=True, name="w")  # parameter
    y = (x * w * 2.0).sum()                                     # 2.0: a constant
    nodes, _ = parse(draw_graph(y))
    fill = {kind: re.search(r'fillcolor="([^"]+)"', nodes[nid]).group(1)
            for kind, nid in (("input", node_titled(nodes, "x")),
                              ("param", node_titled(nodes, "w")),
                              ("const", node_titled(nodes, "2")))}
    assert len(set(fill.values())) == 3
    assert "input" in nodes[node_titled(nodes, "x")]
    assert "leaf (requires grad)" in nodes[node_titled(nodes, "w")]
    assert "constant" in nodes[node_titled(nodes, "2")]
    for nid, attrs in nodes.items():
        if nid.startswith("n"):
            leaf = "constant" in attrs or "input" in attrs or "requires grad" in attrs
            assert ('shape="box"' if leaf else 'shape="ellipse"') in attrs
    assert "peripheries" in nodes["n0"]  # the output is marked


def test_missing_gradients_say_how_to_keep_them():
    a = Tensor(2.0, requires_grad=True, name="a")
    u = a * a
    u.name = "u"
    J = u * 3.0
    before = parse(draw_graph(J))[0]
    assert "not computed yet" in before[node_titled(before, "u = a · a")]
    J.backward()  # neither retain_grads nor retain_graph
    drawing = draw_graph(J)
    nodes, edges = parse(drawing)
    u_attrs = nodes[node_titled(nodes, "u = a · a")]
    assert "grad: not retained" in u_attrs
    assert "grad = 12<" in nodes[node_titled(nodes, "a")]  # dJ/da = 6a = 12
    # a is used twice and u's gradient is gone: no edge value is known, and the legend
    # (not every node) says once how to see them
    assert not any("grad =" in attrs for _, _, attrs in edges)
    assert drawing.source.count("backward(retain_grads=True)") == 1
    assert "no grad shown: backward(retain_grads=True) keeps it" in nodes["legend"]
    without_legend = parse(draw_graph(J, legend=False))[0]
    assert "not retained, use backward(retain_grads=True)" in \
        without_legend[node_titled(without_legend, "u = a · a")]


def test_small_arrays_are_printed_whole_and_big_ones_summarised():
    small = Tensor(np.arange(16, dtype=np.float32).reshape(4, 4), requires_grad=True,
                   name="small")
    big = Tensor(np.arange(25, dtype=np.float32).reshape(5, 5) - 3, requires_grad=True,
                 name="big")
    nodes, _ = parse(draw_graph(small.sum() + big.sum()))
    s, b = nodes[node_titled(nodes, "small")], nodes[node_titled(nodes, "big")]
    assert "[[0, 1, 2, 3]," in s and "[12, 13, 14, 15]]" in s
    assert "mean 9, min -3, max 21" in b and "5×5 float32" in b


def test_column_vectors_stay_on_one_line_and_long_rows_wrap():
    col = Tensor(np.array([[0.5], [1.0], [2.0]]), requires_grad=True, name="col")
    row = Tensor(np.arange(16) / 7, requires_grad=True, name="row")
    nodes, _ = parse(draw_graph(col.sum() + row.sum()))
    assert "value = [[0.5], [1], [2]]<" in nodes[node_titled(nodes, "col")]
    wrapped = nodes[node_titled(nodes, "row")]
    assert "0.1429" in wrapped and "2.143]" in wrapped and '<BR ALIGN="LEFT"/> 1.' in wrapped


def test_names_label_unnamed_parameters_without_renaming_them():
    W = Tensor(np.ones((2, 2)), requires_grad=True)
    b = Tensor(np.zeros(2), requires_grad=True)
    x = Tensor(np.ones((3, 2)), name="x")
    out = (x @ W + b).sum()

    class Model:  # anything with named_parameters(), like an nn.Module
        def named_parameters(self):
            return iter([("layer.weight", W), ("layer.bias", b)])

    for names in (Model(), {"layer.weight": W, "layer.bias": b},
                  [("layer.weight", W), ("layer.bias", b)]):
        nodes, _ = parse(draw_graph(out, names=names))
        node_titled(nodes, "layer.weight")
        node_titled(nodes, "matmul#1 = x @ layer.weight")
        node_titled(nodes, "layer.bias")
    assert W.name is None and b.name is None
    with pytest.raises(TypeError, match="names must map names to Tensors"):
        draw_graph(out, names={"w": W.data})


def test_a_model_names_its_module_clusters_and_boxes_by_class():
    W = Tensor(np.ones((2, 2)), requires_grad=True)

    class Linear:
        pass

    class Model:  # the nn.Module protocol: parameter and submodule paths
        def named_parameters(self):
            return iter([("0.weight", W)])

        def named_modules(self):
            return iter([("", self), ("0", Linear())])

    with scope("0"):
        h = Tensor(np.ones((3, 2)), name="x") @ W
    out = h.sum()
    clusters = _clusters(draw_graph(out, names=Model()).source)
    assert "0: Linear" in clusters and "0.weight" in clusters["0: Linear"]
    assert "<B>0: Linear</B>" in draw_graph(out, names=Model(), collapse_modules=True).source


def test_show_options_hide_values_grads_and_formulas():
    J = course_example()
    nodes, edges = parse(draw_graph(J, show_values=False, show_grads=False,
                                    show_formulas=False, legend=False))
    text = " ".join(nodes.values()) + " ".join(e[2] for e in edges)
    assert "value =" not in text and "grad =" not in text and "not computed" not in text
    assert "∂" not in text
    assert "legend" not in draw_graph(J, legend=False).source


def _titles_and_formulas(graph: graphviz.Digraph) -> tuple[list[str], list[str]]:
    """Every node headline and every edge formula of a drawing."""
    nodes, edges = parse(graph)
    titles = [m.group(1) for attrs in nodes.values() if (m := re.search(r"<B>([^<]*)</B>", attrs))]
    formulas = [m.group(1) for _, _, attrs in edges if (m := re.search(r"(∂[^<>]*)", attrs))]
    return titles, formulas


def test_unnamed_nodes_are_numbered_and_formulas_use_operand_labels_not_placeholders():
    # QA: in J = 3(a + b·c) with unnamed intermediates, the edge add → J read "∂/∂b = a"
    # (Mul's placeholders) next to the user's own a and b; the true derivative is 3.
    a, b, c = (Tensor(v, requires_grad=True, name=n) for v, n in ((5.0, "a"), (3.0, "b"),
                                                                  (2.0, "c")))
    J = 3 * (a + b * c)
    J.backward(retain_graph=True, retain_grads=True)
    nodes, edges = parse(draw_graph(J))
    n = {t: node_titled(nodes, t) for t in ("mul#2 = 3 · add#1", "add#1 = a + mul#1",
                                            "mul#1 = b · c", "a", "b", "c")}
    cases = [("add#1 = a + mul#1", "mul#2 = 3 · add#1", "∂mul#2/∂add#1 = 3"),
             ("mul#1 = b · c", "add#1 = a + mul#1", "∂add#1/∂mul#1 = 1"),
             ("a", "add#1 = a + mul#1", "∂add#1/∂a = 1"),
             ("b", "mul#1 = b · c", "∂mul#1/∂b = c"), ("c", "mul#1 = b · c", "∂mul#1/∂c = b")]
    for tail, head, formula in cases:
        assert f"label=<{formula}<BR/>" in edge_between(edges, n[tail], n[head])
    assert not any("∂/∂" in attrs for _, _, attrs in edges)


def test_formula_placeholders_are_replaced_as_whole_identifiers_all_at_once():
    a, b = Tensor(2.0, requires_grad=True, name="a"), Tensor(4.0, requires_grad=True, name="b")
    bb = Tensor(3.0, requires_grad=True, name="bb")
    e = Tensor(1.0, requires_grad=True, name="e")
    # Div declares ("1/b", "-a/b²") over (a, b): here its a is the user's b and vice versa
    _, formulas = _titles_and_formulas(draw_graph(b / a + a / bb + e.exp(), legend=False))
    for expected in ("∂div#1/∂b = 1/a", "∂div#1/∂a = -b/a²", "∂div#2/∂a = 1/bb",
                     "∂div#2/∂bb = -a/bb²", "∂exp#1/∂e = exp(e)"):
        assert expected in formulas, (expected, formulas)


@given(first=st.from_regex(r"[a-z]{1,3}", fullmatch=True),
       second=st.from_regex(r"[a-z]{1,3}", fullmatch=True))
def test_edge_formulas_read_in_the_users_names(first, second):
    x = Tensor(2.0, requires_grad=True, name=first)
    y = Tensor(3.0, requires_grad=True, name=second + "_")  # never equal to first
    _, formulas = _titles_and_formulas(draw_graph(x * y, legend=False, show_grads=False))
    assert sorted(formulas) == sorted([f"∂mul#1/∂{first} = {second}_",
                                       f"∂mul#1/∂{second}_ = {first}"])


def test_unnamed_leaves_and_outputs_named_by_the_op_get_distinct_labels():
    x = Tensor(np.ones(3), requires_grad=True)
    w = Tensor(np.ones(3))
    s = (x * w).sigmoid().sum()
    titles, formulas = _titles_and_formulas(draw_graph(s, legend=False))
    assert {"leaf#1", "input#1", "mul#1 = leaf#1 · input#1", "sigmoid#1 = sigmoid(mul#1)",
            "sum#1 = sum(sigmoid#1)"} <= set(titles)
    assert "∂mul#1/∂leaf#1 = input#1" in formulas
    # an op may name its output's placeholder (σ' = a(1 − a), a = σ(z)): it is replaced too

    class Sigmoid(tg.Function):
        output, inputs, derivatives = "a", ("z",), ("a(1 − a)",)

        @staticmethod
        def forward(ctx, z):
            return 1 / (1 + np.exp(-z))

    _, formulas = _titles_and_formulas(draw_graph(Sigmoid.apply(x), legend=False))
    assert formulas == ["∂Sigmoid#1/∂leaf#1 = Sigmoid#1(1 − Sigmoid#1)"]


def test_nodes_cut_off_by_max_nodes_appear_by_their_op_in_brackets():
    x = Tensor(np.ones(2), requires_grad=True, name="x")
    y = x.tanh().exp() * 2.0
    titles, _ = _titles_and_formulas(draw_graph(y, max_nodes=3, legend=False))
    assert "exp#1 = exp([tanh])" in titles and "mul#1 = exp#1 · 2" in titles


def test_labels_with_dot_and_html_characters_are_escaped_and_render():
    x = Tensor(np.array([-np.inf, 1.0]), requires_grad=True, name='<x & "y"> {a|b} \\')
    out = x.exp().sum()
    out.name = "</TD>]"
    g = draw_graph(out)
    assert "&lt;x &amp; &quot;y&quot;&gt;" in g.source
    assert "&lt;/TD&gt;]" in g.source
    svg = g.pipe(format="svg", encoding="utf-8")
    assert "&lt;x &amp;" in svg


@given(name=st.text(min_size=1, max_size=12))
def test_any_name_gives_valid_dot(name):
    x = Tensor(1.5, requires_grad=True, name=name)
    y = x * x
    y.name = name
    svg = draw_graph(y, legend=False).pipe(format="svg", encoding="utf-8")
    assert svg.lstrip().startswith("<?xml") and "</svg>" in svg


def test_ops_with_array_arguments_and_many_inputs_are_drawn():
    x = Tensor([1.0, -2.0, 3.0], requires_grad=True, name="x")
    z = tg.concatenate([tg.where(x > 0, x, x * 0.1), x]).sum()
    z.backward(retain_graph=True, retain_grads=True)
    nodes, edges = parse(draw_graph(z))
    where = node_titled(nodes, "where#1 = where(x, mul#1)")
    x_id = node_titled(nodes, "x")
    assert "grad = [1, 0, 1]<" in edge_between(edges, x_id, where)
    assert "grad = [2, 1.1, 2]<" in nodes[x_id]  # 1 + (1 where x > 0, else 0.1)
    draw_graph(z).pipe(format="svg")


# ----------------------------------------------------------------------------- large graphs
def _mlp_loss():
    X = tg.randn(4, 3)
    X.name = "X"
    W1, b1 = tg.randn(3, 5, requires_grad=True), tg.zeros(5, requires_grad=True)
    W2, b2 = tg.randn(5, 1, requires_grad=True), tg.zeros(1, requires_grad=True)
    W1.name, b1.name, W2.name, b2.name = "W1", "b1", "W2", "b2"
    with scope("net"):
        with scope("net.layer1"):
            A1 = (X @ W1 + b1).relu()
        with scope("net.layer2"):
            Z2 = A1 @ W2 + b2
        loss = Z2.sigmoid().mean()
    return loss


def _clusters(source: str) -> dict[str, str]:
    """Cluster label → the text of that cluster (nested clusters included)."""
    out = {}
    lines = source.splitlines()
    for i, line in enumerate(lines):
        if line.strip().startswith("subgraph cluster_"):
            depth, body = 0, []
            for other in lines[i:]:
                depth += other.strip().startswith("subgraph ") - (other.strip() == "}")
                body.append(other)
                if depth == 0:
                    break
            label = re.search(r'label="([^"]*)"', body[1]).group(1)
            out[label] = "\n".join(body)
    return out


def test_nodes_are_grouped_in_nested_module_clusters():
    loss = _mlp_loss()
    g = draw_graph(loss)
    nodes, _ = parse(g)
    clusters = _clusters(g.source)
    assert {"net", "layer1", "layer2", "legend"} <= set(clusters)
    assert clusters["layer1"] in clusters["net"] and clusters["layer2"] in clusters["net"]
    in_layer1 = {m.group(1) for line in clusters["layer1"].splitlines()
                 if (m := NODE.match(line))}
    assert node_titled(nodes, "W1") in in_layer1          # parameters join their module
    assert node_titled(nodes, "relu#1 = relu(add#1)") in in_layer1
    assert node_titled(nodes, "W2") not in in_layer1
    assert node_titled(nodes, "X") not in clusters["net"]  # input data stays outside
    g.pipe(format="svg")


def test_collapse_modules_draws_one_box_per_module():
    loss = _mlp_loss()
    nodes, edges = parse(draw_graph(loss, collapse_modules=True))
    boxes = {n: attrs for n, attrs in nodes.items() if n.startswith("m")}
    assert sorted(re.search(r"<B>([^<]*)</B>", a).group(1) for a in boxes.values()) == \
        ["net", "net.layer1", "net.layer2"]
    layer1 = next(a for a in boxes.values() if "<B>net.layer1</B>" in a)
    assert "matmul" in layer1 and "relu" in layer1 and "2 parameter tensors, 20 values" in layer1
    assert not any("W1" in a for n, a in nodes.items() if n.startswith("n"))
    x = node_titled(nodes, "X")
    box_of = {re.search(r"<B>([^<]*)</B>", a).group(1): n for n, a in boxes.items()}
    assert (x, box_of["net.layer1"], ) in {(a, b) for a, b, _ in edges}
    assert (box_of["net.layer1"], box_of["net.layer2"]) in {(a, b) for a, b, _ in edges}
    top = parse(draw_graph(loss, collapse_modules=1))[0]
    assert [a for n, a in top.items() if n.startswith("m")] == \
        [a for a in top.values() if "<B>net</B>" in a]
    draw_graph(loss, collapse_modules=True).pipe(format="svg")


def test_bad_options_are_reported_by_name():
    J = course_example()
    with pytest.raises(ValueError, match="rankdir"):
        draw_graph(J, rankdir="sideways")
    with pytest.raises(ValueError, match="collapse_modules"):
        draw_graph(J, collapse_modules=0)
    with pytest.raises(TypeError, match="expected a Tensor"):
        draw_graph(J.data)
    assert "rankdir=TB" in draw_graph(J, rankdir="TB").source


def test_max_nodes_keeps_the_nodes_nearest_the_output_and_says_how_many_are_hidden():
    x = Tensor(np.ones(2, np.float32), requires_grad=True, name="x")
    y = x
    for _ in range(30):
        y = y.tanh()
    total = len(nearest_first(y))
    nodes, edges = parse(draw_graph(y, max_nodes=10))
    drawn = [n for n in nodes if re.fullmatch(r"n\d+", n)]
    assert len(drawn) == 10
    assert f"… {total - 10} more nodes" in nodes["more"]
    assert [(a, b) for a, b, _ in edges if a == "more"] == [("more", "n9")]
    assert "more" not in draw_graph(y, max_nodes=total).source
    with pytest.raises(ValueError, match="max_nodes"):
        draw_graph(y, max_nodes=0)


def test_very_deep_graphs_are_walked_without_recursion():
    x = Tensor(1.0, requires_grad=True)
    y = x
    for _ in range(sys.getrecursionlimit() * 20):
        y = y * 1.0
    order = topological_order(y)
    assert order[0] is x or order[-1] is y
    assert order[-1] is y and len(order) == len(nearest_first(y))
    assert "more nodes" in draw_graph(y, max_nodes=5).source


# ----------------------------------------------------------------------------- rendering
@pytest.mark.parametrize("suffix,magic", [(".svg", b"<?xml"), (".png", b"\x89PNG"),
                                          (".pdf", b"%PDF"), (".dot", b"digraph")])
def test_save_picks_the_format_from_the_extension(tmp_path, suffix, magic):
    J = course_example()
    path = save(J, tmp_path / "sub" / f"graph{suffix}")
    data = path.read_bytes()
    assert data.startswith(magic)
    if suffix == ".svg":
        assert b"J = 3 \xc2\xb7 v" in data and b"value = 33" in data


def test_save_rejects_unknown_extensions_and_stray_options(tmp_path):
    with pytest.raises(ValueError, match="unknown extension"):
        save(course_example(), tmp_path / "graph.jpeg2000")
    with pytest.raises(TypeError, match="only when a Tensor"):
        save(draw_graph(course_example()), tmp_path / "g.svg", check=True)


def test_drawings_are_digraphs_that_display_in_jupyter():
    g = draw_graph(course_example())
    assert isinstance(g, graphviz.Digraph) and isinstance(g, GraphDrawing)
    bundle = g._repr_mimebundle_()
    assert "<svg" in bundle["image/svg+xml"]


def test_missing_dot_program_gives_install_instructions(monkeypatch, tmp_path):
    g = draw_graph(course_example())
    monkeypatch.setenv("PATH", str(tmp_path))  # no `dot` anywhere
    assert "digraph" in draw_graph(course_example()).source  # building still works
    for render in (lambda: g.pipe(format="svg"), lambda: save(g, tmp_path / "g.png"),
                   lambda: g.render(tmp_path / "g", format="svg"),
                   lambda: g._repr_mimebundle_()):
        with pytest.raises(RuntimeError) as info:
            render()
        message = str(info.value)
        assert "apt-get install graphviz" in message and "brew install graphviz" in message
        assert "conda install graphviz" in message
    assert save(g, tmp_path / "g.dot").read_text().startswith("digraph")


def test_module_entry_point_writes_the_course_picture(tmp_path):
    path = tmp_path / "course_graph.svg"
    assert viz_main([str(path)]) == 0
    svg = path.read_text(encoding="utf-8")
    assert "u = b · c" in svg and "∂u/∂c = b" in svg and "grad = 9" in svg


# ----------------------------------------------------------------------------- check=True
def _fill(nodes, title):
    return re.search(r'fillcolor="([^"]+)"', nodes[node_titled(nodes, title)]).group(1)


def test_check_colours_a_wrong_function_red_and_correct_ops_green():
    a = Tensor([1.0, 2.0], requires_grad=True, name="a")
    b = Tensor(3.0, requires_grad=True, name="b")
    J = BadCube.apply(a).sum() + b * b
    results = {c.leaf.name: c for c in check_graph(J)}
    assert results["a"].status == "red" and results["a"].relative_difference > 0.1
    assert results["b"].status == "green" and results["b"].relative_difference < 1e-6
    nodes, _ = parse(draw_graph(J, check=True))
    assert _fill(nodes, "a") == "#fee2e2" and _fill(nodes, "b") == "#dcfce7"
    assert re.search(r"check ✗ relative difference \d\.\de-0[12]",
                     nodes[node_titled(nodes, "a")])
    assert "check ✓" in nodes[node_titled(nodes, "b")]
    assert "gradient check" in draw_graph(J, check=True).source  # in the legend
    assert "check" not in " ".join(parse(draw_graph(J))[0].values())


def test_check_colours_a_slightly_wrong_gradient_amber():
    x = Tensor([0.5, -1.5, 2.0], requires_grad=True, name="x")
    (c,) = check_graph(SlightlyOffSquare.apply(x).sum())
    assert 1e-6 < c.relative_difference < 1e-3 and c.status == "amber"
    nodes, _ = parse(draw_graph(SlightlyOffSquare.apply(x).sum(), check=True))
    assert _fill(nodes, "x") == "#fef3c7"


def test_check_replays_ops_with_keyword_arguments_in_float64():
    tg.manual_seed(1)
    W = tg.randn(3, 4, requires_grad=True)
    W.name = "W"
    x = tg.randn(2, 3)
    out = (x @ W).reshape(4, 2).transpose(1, 0).sum(axis=1, keepdims=True).tanh() \
        .log_softmax(axis=0)  # a non-scalar root: checked through Σ out ⊙ v
    (c,) = check_graph(out)
    assert c.leaf is W and c.status == "green"
    assert W.dtype == np.float32 and W.grad is None  # the user's graph is untouched


def test_check_of_a_leaf_root_is_an_error():
    with pytest.raises(ValueError, match="leaf"):
        check_graph(Tensor(1.0, requires_grad=True))


def test_drawing_a_leaf_with_check_says_there_is_nothing_to_check():
    # QA: draw_graph(leaf, check=True) raised (as does the CLI's `graph a --check`)
    a = Tensor(1.0, requires_grad=True, name="a")
    g = draw_graph(a, check=True)
    nodes, edges = parse(g)
    attrs = nodes[node_titled(nodes, "a")]
    assert "nothing to check" in attrs and edges == []
    assert 'fillcolor="#ede9fe"' in attrs  # the plain leaf colour, no check colour
    assert "<svg" in g.pipe(format="svg", encoding="utf-8")


# ----------------------------------------------------------------------------- backprop steps
def test_backprop_steps_reveal_one_gradient_per_frame_in_reverse_topological_order():
    J = course_example(backward=False)
    frames = list(backprop_steps(J))
    assert len(frames) == 6  # J, v, u, a, b, c need gradients; the constant 3 does not
    seen: list[str] = []
    for k, frame in enumerate(frames, 1):
        nodes, edges = parse(frame)
        shown = [n for n, attrs in nodes.items() if re.search(r"∂J/∂\w+ = -?\d", attrs)]
        assert len(shown) == k and f"step {k} of 6" in frame.source
        new = [n for n in shown if n not in seen]
        assert len(new) == 1 and 'penwidth="3"' in nodes[new[0]]
        for tail, head, _ in edges:  # a node's gradient comes after all its consumers'
            if tail == new[0]:
                assert head in seen
        seen += new
    last = parse(frames[-1])[0]
    assert "∂J/∂c = 9<" in last[node_titled(last, "c")]
    assert "∂J/∂J = 1" in frames[0].source
    assert "∂J/∂u = ∂J/∂v·∂v/∂u = 3" in frames[2].source


def test_backprop_step_captions_tell_unnamed_nodes_apart():
    # QA: with unnamed intermediates step 3 read "∂[mul]/∂[mul] = ∂[mul]/∂[add]·…"
    a, b, c = (Tensor(v, requires_grad=True, name=n) for v, n in ((5.0, "a"), (3.0, "b"),
                                                                  (2.0, "c")))
    frames = list(backprop_steps(3 * (a + b * c)))
    assert "step 3 of 6:  ∂mul#2/∂mul#1 = ∂mul#2/∂add#1·∂add#1/∂mul#1 = 3" in frames[2].source
    nodes, _ = parse(frames[2])
    assert "∂mul#2/∂mul#1 = 3<" in nodes[node_titled(nodes, "mul#1 = b · c")]


def test_backprop_steps_leave_the_graph_and_grads_as_they_were():
    J = course_example(backward=False)
    list(backprop_steps(J))
    a = J._ctx.parents[1]._ctx.parents[0]
    assert a.grad is None
    J.backward()  # the graph was retained
    assert a.grad == 3


def test_save_steps_writes_numbered_svgs(tmp_path):
    paths = save_steps(course_example(backward=False), tmp_path / "frames")
    assert [p.name for p in paths] == [f"step_{k:02d}.svg" for k in range(1, 7)]
    assert all(p.read_text(encoding="utf-8").lstrip().startswith("<?xml") for p in paths)
    with pytest.raises(ValueError, match="format"):
        save_steps(course_example(backward=False), tmp_path, format="bmp")


# ----------------------------------------------------------------------------- plots
@pytest.fixture
def agg():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    yield plt
    plt.close("all")


def test_plot_history_draws_lists_and_dicts_and_saves(agg, tmp_path):
    costs = [0.69, 0.5, 0.4, Tensor(0.35)]
    ax = plot_history(costs, every=100, path=tmp_path / "cost.png")
    (line,) = ax.get_lines()
    np.testing.assert_allclose(line.get_xdata(), [0, 100, 200, 300])
    np.testing.assert_allclose(line.get_ydata(), [0.69, 0.5, 0.4, 0.35], rtol=1e-6)
    assert "100" in ax.get_xlabel() and ax.get_ylabel() == "cost"
    assert (tmp_path / "cost.png").read_bytes().startswith(b"\x89PNG")
    ax = plot_history({"train": [1.0, 0.5], "dev": [1.2, 0.8, 0.7]}, xlabel="epoch")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["train", "dev"]
    assert ax.get_xlabel() == "epoch"
    with pytest.raises(ValueError, match="empty"):
        plot_history([])
    with pytest.raises(TypeError, match="numbers"):
        plot_history(["a lot"])


def test_predicted_labels_handle_logits_probabilities_classes_and_predict():
    X = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, -1.0], [-1.0, 0.5]])
    logits = lambda t: t[:, 0:1] - t[:, 1:2]  # noqa: E731
    expected = (X[:, 0] > X[:, 1]).astype(int)
    np.testing.assert_array_equal(predicted_labels(logits, X), expected)
    np.testing.assert_array_equal(predicted_labels(lambda t: logits(t).sigmoid(), X), expected)
    np.testing.assert_array_equal(
        predicted_labels(lambda t: logits(t).reshape(-1), X, output="logits"), expected)
    three = lambda t: tg.concatenate([t, -t[:, :1] - t[:, 1:]], axis=1)  # noqa: E731
    np.testing.assert_array_equal(predicted_labels(three, X),
                                  np.column_stack([X, -X.sum(1)]).argmax(1))
    np.testing.assert_array_equal(
        predicted_labels(None, X, predict=lambda a: (a[:, 1] > 0).astype(int)),
        (X[:, 1] > 0).astype(int))
    with pytest.raises(ValueError, match="output"):
        predicted_labels(logits, X, output="odds")


def test_plot_decision_boundary_saves_and_checks_shapes(agg, tmp_path):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 2))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    model = lambda t: t[:, 0:1] + t[:, 1:2]  # noqa: E731
    ax = plot_decision_boundary(model, Tensor(X), y, path=tmp_path / "boundary.png",
                                resolution=50, title="linear")
    assert (tmp_path / "boundary.png").read_bytes().startswith(b"\x89PNG")
    assert ax.get_title() == "linear" and len(ax.collections) >= 2
    with pytest.raises(ValueError, match=r"pass X\.T"):
        plot_decision_boundary(model, X.T, y)
    with pytest.raises(ValueError, match="40 points but 3 labels"):
        plot_decision_boundary(model, X, y[:3])


def test_predicting_runs_a_model_in_eval_mode_and_leaves_it_unchanged(agg):
    # QA: predictions ran in training mode: batch norm overwrote its running statistics
    # with the grid's, and dropout made the boundary random
    from tinygrad_ng import nn

    tg.manual_seed(0)
    X = np.random.default_rng(1).standard_normal((30, 2))
    y = (X[:, 0] > 0).astype(int)
    m = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.BatchNorm1d(4), nn.Linear(4, 2))
    m[2].running_mean.data = np.arange(4, dtype=np.float32)  # not what the grid would give
    before = {k: v.copy() for k, v in m.state_dict().items()}
    plot_decision_boundary(m, X, y, resolution=20)
    after = m.state_dict()
    assert all(np.array_equal(before[k], after[k]) for k in before)
    assert m.training and m[2].training
    with tg.no_grad():
        expected = m.eval()(Tensor(X.astype(np.float32))).data.argmax(axis=1)
    m.train()
    np.testing.assert_array_equal(predicted_labels(m, X), expected)

    d = nn.Sequential(nn.Linear(2, 64), nn.ReLU(), nn.Dropout(0.5), nn.Linear(64, 2))
    assert (predicted_labels(d, X) != predicted_labels(d, X)).sum() == 0
    d[2].eval()  # mixed modes come back as they were, module by module
    predicted_labels(d, X)
    assert d.training and d[0].training and not d[2].training
    d.eval()
    predicted_labels(d, X)
    assert not d.training and not d[0].training


def test_plots_explain_a_missing_matplotlib(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match="pip install matplotlib"):
        plot_history([1.0, 0.5])


def test_plot_misclassified_grid_with_tags(agg, tmp_path):
    from tinygrad_ng.viz import plot_misclassified

    from tinygrad_ng.metrics import error_analysis

    rng = np.random.default_rng(0)
    images = rng.random((12, 16))  # flat 4x4 images
    y = np.arange(12) % 3
    pred = y.copy()
    pred[[1, 4, 7]] = 0
    fig = plot_misclassified(images, y, pred, image_shape=(4, 4), path=tmp_path / "e.png")
    assert (tmp_path / "e.png").exists()
    shown = [ax for ax in fig.axes if ax.images]
    assert [ax.get_title() for ax in shown] == ["1 → 0", "1 → 0", "1 → 0"]
    analysis = error_analysis(y, pred, {4: ["blurry"], 7: ["dark", "blurry"]})
    fig = plot_misclassified(images.reshape(12, 4, 4), y, pred, analysis=analysis,
                             class_names=["cat", "dog", "bird"])
    titles = [ax.get_title() for ax in fig.axes if ax.images]
    assert titles == ["dog → cat\nblurry", "dog → cat\ndark, blurry"]
    with pytest.raises(ValueError, match="no misclassified examples"):
        plot_misclassified(images, y, y, image_shape=(4, 4))
    with pytest.raises(ValueError, match=r"shape \(m, H, W\)"):
        plot_misclassified(images, y, pred)
    with pytest.raises(ValueError, match="covers 12 examples but there are 3"):
        plot_misclassified(images[:3], y[:3], pred[:3], image_shape=(4, 4), analysis=analysis)


# ----------------------------------------------------------------------------- issue 14
def edge_grad(edges, nodes, tail: str, head: str) -> str | None:
    """The ``grad = …`` text on the edge from node ``tail`` to ``head`` (titles), or None."""
    attrs = edge_between(edges, node_titled(nodes, tail), node_titled(nodes, head))
    m = re.search(r"grad = ([^<]*)<", attrs)
    return m.group(1) if m else None


def a_b_graph():
    """J = sum(a·b + b): a has one consumer, b two."""
    a = Tensor([1.0, 2.0], requires_grad=True, name="a")
    b = Tensor([3.0, -1.0], requires_grad=True, name="b")
    u = a * b
    u.name = "u"
    v = u + b
    v.name = "v"
    J = v.sum()
    J.name = "J"
    return a, b, J


def test_edges_after_a_plain_backward_show_every_gradient_that_is_known():
    a, b, J = a_b_graph()
    J.backward()
    drawing = draw_graph(J)
    nodes, edges = parse(drawing)
    # a is used once: the edge a → u carried all of a.grad = b
    assert edge_grad(edges, nodes, "a", "u = a · b") == "[3, -1]"
    # b is used twice and u's gradient was not kept: unknown, said once in the legend
    assert edge_grad(edges, nodes, "b", "u = a · b") is None
    assert edge_grad(edges, nodes, "u = a · b", "v = u + b") is None
    assert drawing.source.count("retain_grads=True") == 1
    assert "backward(retain_grads=True) keeps it" in nodes["legend"]


def test_edges_after_backward_with_retain_grads_show_every_gradient():
    a, b, J = a_b_graph()
    J.backward(retain_grads=True)  # the graph is freed: edges are recomputed by re-running
    drawing = draw_graph(J)
    nodes, edges = parse(drawing)
    expected = {("a", "u = a · b"): "[3, -1]", ("b", "u = a · b"): "[1, 2]",
                ("b", "v = u + b"): "[1, 1]", ("u = a · b", "v = u + b"): "[1, 1]",
                ("v = u + b", "J = sum(v)"): "[1, 1]"}
    for (tail, head), grad in expected.items():
        assert edge_grad(edges, nodes, tail, head) == grad, (tail, head)
    assert "keeps it" not in drawing.source  # nothing left to explain
    # what the edges into b carried adds up to b.grad
    np.testing.assert_array_equal(b.grad, [1 + 1, 2 + 1])
    assert a.data.flags.writeable and b.data.flags.writeable  # re-running locked nothing


class DrawsNoise(tg.Function):
    """x + noise from the library's generator: a random op cannot be re-run for a drawing."""

    derivatives = ("1",)

    @staticmethod
    def forward(ctx, x):
        from tinygrad_ng import random

        return x + random.generator().standard_normal(x.shape)

    @staticmethod
    def backward(ctx, g):
        return g


class MasksInForward(tg.Function):
    """x · mask with the mask drawn inside forward: on zeros, a re-run gives the same output
    but another mask, so the gradient it would send is not the one that flowed."""

    derivatives = ("mask",)

    @staticmethod
    def forward(ctx, x):
        from tinygrad_ng import random

        ctx.mask = random.generator().random(x.shape) < 0.5
        return x * ctx.mask

    @staticmethod
    def backward(ctx, g):
        return g * ctx.mask


def test_a_random_op_or_a_changed_input_is_not_re_run_for_its_edges():
    z = Tensor(np.zeros(64), requires_grad=True, name="z")
    J = (MasksInForward.apply(z) + z).sum()
    J.backward(retain_grads=True)
    nodes, edges = parse(draw_graph(J))
    assert edge_grad(edges, nodes, "z", "MasksInForward#1 = MasksInForward(z)") is None

    x = Tensor([1.0, 2.0], requires_grad=True, name="x")
    n = DrawsNoise.apply(x)
    n.name = "n"
    J = (n * x).sum()  # x used twice: its edges are known only by re-running their ops
    J.name = "J"
    J.backward(retain_grads=True)
    nodes, edges = parse(draw_graph(J))
    assert edge_grad(edges, nodes, "x", "n = DrawsNoise(x)") is None  # would draw anew
    assert edge_grad(edges, nodes, "x", "mul#1 = n · x") is not None
    assert "backward(retain_graph=True, retain_grads=True) keeps it" in nodes["legend"]
    J = (DrawsNoise.apply(x) * x).sum()
    J.backward(retain_graph=True, retain_grads=True)  # the op's own saved values: shown
    nodes, edges = parse(draw_graph(J))
    assert edge_grad(edges, nodes, "x", "DrawsNoise#1 = DrawsNoise(x)") is not None
    assert "keeps it" not in nodes["legend"]

    w = Tensor([1.0, -1.0], requires_grad=True, name="w")
    y = (w * w).exp()
    y.name = "y"
    J = y.sum()
    J.name = "J"
    J.backward(retain_grads=True)
    w.data += 1  # an update after backward: re-running w · w would not give mul#1 back
    nodes, edges = parse(draw_graph(J))
    mul, w_node = node_titled(nodes, "mul#1 = w · w"), node_titled(nodes, "w")
    assert not any("grad =" in attrs for a, b, attrs in edges if (a, b) == (w_node, mul))
    assert edge_grad(edges, nodes, "mul#1 = w · w", "y = exp(mul#1)") == "[2.718, 2.718]"
    assert "backward(retain_graph=True, retain_grads=True) keeps it" in nodes["legend"]


def test_a_leaf_whose_grad_holds_other_backward_calls_says_so():
    w = Tensor([1.0, 2.0], requires_grad=True, name="w")
    (3 * w).sum().backward()  # an earlier pass through another graph: w.grad = [3, 3]
    J = (w * w).sum()
    J.name = "J"
    J.backward(retain_grads=True)  # adds 2w = [2, 4]: w.grad = [5, 7]
    attrs = parse(draw_graph(J))[0]
    w_node = attrs[node_titled(attrs, "w")]
    assert "other backward() calls" in w_node and "edges brought [2, 4]" in w_node
    assert "[5, 7]" not in w_node
    w.grad = None
    J = (w * w).sum()
    J.backward(retain_grads=True)
    attrs = parse(draw_graph(J))[0]
    w_node = attrs[node_titled(attrs, "w")]
    assert "grad = [2, 4]<" in w_node and "other backward" not in w_node


def test_numbers_drop_negative_zero_rounding_noise_and_float32_widening():
    from tinygrad_ng.viz.labels import Labels, array_text

    assert array_text(np.float32(-0.0)) == "0"
    assert array_text(np.array([-0.0, 1.0])) == "[0, 1]"
    assert array_text(np.array([0.25, 2.776e-17, -3e-18])) == "[0.25, 0, 0]"
    assert array_text(np.array([1e-20, -2e-20])) == "[1e-20, -2e-20]"  # small, not noise
    assert array_text(np.array([np.inf, 1e-30, np.nan])) == "[inf, 1e-30, nan]"
    assert array_text(np.r_[np.full(10, 0.5), np.full(10, -0.5) + 1e-17]).startswith("mean 0,")
    assert array_text(np.float32(-1.5000005)) == "-1.5"
    x = Tensor(np.ones(3, np.float32), requires_grad=True)
    clipped = x.clip(np.float32(-1.5000005), np.float32(0.1))
    title = Labels().title(clipped)
    assert "0.1" in title and "0.100000001" not in title and "1.5000004" not in title, title


def test_a_constant_used_by_several_ops_is_drawn_next_to_each_use():
    p = Tensor(0.3, requires_grad=True, name="p")
    q = Tensor(0.6, requires_grad=True, name="q")
    J = (1 - p) * (1 - q) + (1 - p * q)  # the same cached constant 1, three times
    J.backward(retain_grads=True)
    nodes, edges = parse(draw_graph(J))
    ones = [n for n, attrs in nodes.items() if "<B>1</B>" in attrs]
    assert len(ones) == 3
    tails = [a for a, _, _ in edges if a in ones]
    assert sorted(tails) == sorted(ones)  # one edge out of each copy
    heads = {b for a, b, _ in edges if a in ones}
    assert len(heads) == 3
    for name, value in (("1 − p", 0.7), ("1 − q", 0.4)):
        assert f"value = {value}<" in nodes[node_titled(nodes, f"sub#{1 if 'p' in name else 2}"
                                                        f" = {name}")]
    x = Tensor([1.0, 2.0], requires_grad=True, name="x")
    with scope("a"):
        u = x * 2.0
    with scope("b"):
        v = u * 2.0
    J = (v * 2.0).sum()  # one constant 2 in module a, in module b and outside both
    nodes, edges = parse(draw_graph(J))
    twos = {n for n, attrs in nodes.items() if "<B>2</B>" in attrs}
    assert len(twos) == 3 and len({b for a, b, _ in edges if a in twos}) == 3
    clusters = draw_graph(J).source.split("subgraph cluster_")[1:3]
    assert all(c.count("<B>2</B>") == 1 for c in clusters)  # each copy in its module
    nodes, edges = parse(draw_graph(J, collapse_modules=True))
    twos = [n for n, attrs in nodes.items() if "<B>2</B>" in attrs]
    assert len(twos) == 1  # the copies inside a and b are part of their module's box
    assert [b for a, b, _ in edges if a == twos[0]] == [node_titled(nodes, "mul#3 = mul#2 · 2")]


# ----------------------------------------------------------------------------- constant expressions
def logistic_loss(y: Tensor, a: Tensor) -> Tensor:
    """The course's logistic loss of a prediction ``a`` for a label ``y``."""
    return -(y * a.log() + (1 - y) * (1 - a).log())


def test_a_constant_expression_of_a_named_tensor_is_drawn_as_written():
    y = Tensor(1.0, name="y")
    a = Tensor(0.7, requires_grad=True, name="a")
    J = logistic_loss(y, a)
    J.backward()
    nodes, edges = parse(draw_graph(J))
    sub = node_titled(nodes, "sub#1 = 1 − y")  # (1 − y), not a constant 0
    assert "ellipse" in nodes[sub] and "sub · scalar" in nodes[sub]
    assert "value = 0<" in nodes[sub] and "grad" not in nodes[sub]
    into = {a_: attrs for a_, b, attrs in edges if b == sub}  # inputs 1 (a copy) and y
    assert len(into) == 2 and node_titled(nodes, "y") in into
    assert ["<B>1</B>" in nodes[n] for n in into] .count(True) == 1
    assert all(attrs == 'style="dashed" color="#94a3b8"' for attrs in into.values())
    assert "<B>mul#2 = sub#1 · log#2</B>" in draw_graph(J).source
    assert np.isclose(a.grad, -1 / 0.7)  # the gradient is what it was


def test_an_unnamed_constant_expression_stays_folded():
    y = Tensor(1.0)
    a = Tensor(0.7, requires_grad=True, name="a")
    nodes, _ = parse(draw_graph(logistic_loss(y, a)))
    assert "constant ·" in nodes[node_titled(nodes, "0")]  # (1 − 1) folded into 0, as before
    node_titled(nodes, "mul#2 = 0 · log#2")
    assert not any("1 − 1" in attrs for attrs in nodes.values())


def test_a_kept_constant_expression_is_still_a_leaf_that_needs_no_grad():
    y = Tensor(1.0, name="y")
    for t in (1 - y, (1 - y) * 2, y.exp(), -y):
        assert t.is_leaf and not t.requires_grad and t._ctx is None and t.grad is None
        assert recipe(t) is not None and recipe(t).parents  # what a drawing shows
    with tg.no_grad():
        assert recipe(1 - y) is None  # no_grad: nothing is kept
    assert recipe(Tensor(1.0) - 1) is None and recipe(y) is None


def test_a_kept_constant_expression_dies_with_its_tensor():
    y = Tensor(np.ones(3), name="y")
    t = 1 - y
    ref = weakref.ref(recipe(t))
    before = len(recipes)
    del t
    gc.collect()
    assert ref() is None and len(recipes) == before - 1


def test_a_named_constant_updated_in_a_loop_keeps_no_growing_history():
    lr = Tensor(0.1, name="lr")
    lr = lr * 0.9
    first = weakref.ref(lr)
    for _ in range(3 * RECIPE_DEPTH):
        lr = lr * 0.9
    depth, t = 0, lr
    while (ctx := recipe(t)) is not None:
        depth, t = depth + 1, ctx.parents[0]
    assert depth < RECIPE_DEPTH  # the chain was cut, and what came before it is freed
    gc.collect()
    assert first() is None


def test_the_recorded_walk_treats_a_kept_constant_expression_as_a_leaf():
    z = Tensor(2.0, name="z")
    a = Tensor(0.5, requires_grad=True, name="a")
    kept = 3 * z
    J = a * kept
    drawn = [id(t) for t in topological_order(J)]
    recorded = [id(t) for t in topological_order(J, parents=recorded_parents)]
    assert sorted(recorded) == sorted(map(id, (a, kept, J))) and recorded[-1] == id(J)
    assert id(z) in drawn and len(drawn) == 5  # a, 3, z, 3·z, J
