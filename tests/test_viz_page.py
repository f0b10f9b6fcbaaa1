"""tinygrad_ng.viz.backprop_html: the step-through page's content (captions, layouts, data),
its self-containment, the GIF export and the Σ marks on broadcast edges. The page in a real
browser is tested in tests/test_viz_browser.py."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import tinygrad_ng.nn as nn
from tinygrad_ng.viz import BackpropPage, backprop_html, course_example, draw_graph, save_gif

import tinygrad_ng as tg
from tinygrad_ng import Tensor
from tinygrad_ng.autograd import scope

COURSE_CAPTIONS = [
    "∂J/∂J = 1\nbackpropagation starts at the output",
    "∂J/∂v = ∂J/∂J · ∂J/∂v = 1 · 3 = 3\n    where ∂J/∂v = 3",
    "∂J/∂u = ∂J/∂v · ∂v/∂u = 3 · 1 = 3\n    where ∂v/∂u = 1",
    "∂J/∂c = ∂J/∂u · ∂u/∂c = 3 · 3 = 9\n    where ∂u/∂c = b = 3",
    "∂J/∂b = ∂J/∂u · ∂u/∂b = 3 · 2 = 6\n    where ∂u/∂b = c = 2",
    "∂J/∂a = ∂J/∂v · ∂v/∂a = 3 · 1 = 3\n    where ∂v/∂a = 1",
]


def page_json(page: BackpropPage) -> dict:
    """The data the page's script reads, parsed back from the HTML."""
    text = re.search(r'<script type="application/json" id="bp-data">(.*?)</script>',
                     page.html, re.S).group(1)
    return json.loads(text)


def test_course_graph_captions_in_the_courses_notation():
    page = backprop_html(course_example(backward=False))
    assert page.steps == 6
    assert page.captions() == COURSE_CAPTIONS
    assert [s["label"] for s in page.data["steps"]] == ["J", "v", "u", "c", "b", "a"]


def test_a_node_used_twice_accumulates_one_term_per_use():
    x = Tensor(3.0, requires_grad=True, name="x")
    y = x * x
    y.name = "y"
    J = y + x
    J.name = "J"
    caption = dict(zip([s["label"] for s in backprop_html(J).data["steps"]],
                       backprop_html(J).captions()))["x"]
    lines = caption.split("\n")
    assert lines[0] == "∂J/∂x = 0, then one term per use of x:"
    assert "∂J/∂x += ∂J/∂y · ∂y/∂x = 1 · 3 = 3" in lines          # x * x: two uses of x
    assert lines.count("∂J/∂x += ∂J/∂y · ∂y/∂x = 1 · 3 = 3") == 2
    assert "∂J/∂x += ∂J/∂J · ∂J/∂x = 1 · 1 = 1" in lines
    assert lines[-1] == "∂J/∂x = 7"                                 # 2x + 1 at x = 3


def test_page_leaves_grads_and_graph_alone():
    J = course_example(backward=False)
    backprop_html(J)
    leaves = [p for p in J._ctx.parents if isinstance(p, Tensor)]
    assert all(t.grad is None for t in leaves)
    J.backward()  # the graph is still there
    assert J._ctx is not None


def test_page_is_one_self_contained_file(tmp_path):
    page = backprop_html(course_example(backward=False), tmp_path / "sub" / "bp.html")
    text = (tmp_path / "sub" / "bp.html").read_text(encoding="utf-8")
    assert text == page.html and text.startswith("<!DOCTYPE html>")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", text)
    assert "@import" not in text and "url(http" not in text and "<link" not in text
    assert text.count("<script") == 2  # the data and the script, both inline
    data = page_json(page)
    assert data["layouts"]["expanded"]["svg"].startswith("<svg")
    assert data["steps"][4]["caption"][0] == "∂J/∂b = ∂J/∂u · ∂u/∂b = 3 · 2 = 6"
    assert data["nodes"][data["steps"][4]["node"]]["grad"]["text"] == "6"
    inline = page._repr_html_()
    assert inline.startswith("<iframe srcdoc=") and "&lt;!DOCTYPE html&gt;" in inline


def test_user_text_cannot_end_the_pages_script():
    a = Tensor(2.0, requires_grad=True, name="</script><b>a")
    J = a * a
    J.name = "J"
    page = backprop_html(J)
    assert "</script><b>" not in page.html
    assert any(n["label"] == "</script><b>a" for n in page_json(page)["nodes"].values())


def test_large_arrays_get_statistics_and_a_heatmap():
    tg.manual_seed(0)
    W = tg.randn(30, 40, requires_grad=True)
    W.name = "W"
    J = (W * W).sum()
    J.name = "J"
    node = next(n for n in backprop_html(J).data["nodes"].values() if n["label"] == "W")
    for info in (node["value"], node["grad"]):
        assert info["text"].startswith("mean ") and "‖·‖₂" in info["text"]
        heat = info["heatmap"]
        assert (heat["rows"], heat["cols"]) == (24, 24) and heat["sampled"]
        assert len(heat["values"]) == 24 * 24
    assert np.isclose(node["grad"]["heatmap"]["values"][0], 2 * W.data[0, 0])


def test_module_boxes_collapsed_and_expandable(mlp_cost):
    model, J = mlp_cost()
    page = backprop_html(J, names=model, collapse_modules=True)
    data = page.data
    assert data["start"] == "collapsed"
    assert set(data["layouts"]) == {"expanded", "collapsed", "module:0", "module:1",
                                    "module:2"}
    collapsed = data["layouts"]["collapsed"]["place"]
    weight = next(k for k, n in data["nodes"].items() if n["label"] == "2.weight")
    assert collapsed[weight].startswith("m")              # inside module 2's box
    assert data["layouts"]["module:2"]["place"][weight] == weight  # expanded there
    assert data["layouts"]["expanded"]["place"][weight] == weight
    assert page.steps == 8 and page.data["steps"][-1]["label"] == "0.weight"


def test_broadcast_operand_is_marked_on_the_edge_and_in_the_caption():
    tg.manual_seed(0)
    X = tg.randn(4, 3)
    W = tg.randn(3, 2, requires_grad=True)
    b = tg.zeros(2, requires_grad=True)
    W.name, b.name = "W", "b"
    Z = X @ W + b
    Z.name = "Z"
    J = (Z * Z).sum()
    J.name = "J"
    captions = dict(zip([s["label"] for s in backprop_html(J).data["steps"]],
                        backprop_html(J).captions()))
    assert "Σ axis 0 (broadcast): b was broadcast to Z's shape" in captions["b"]
    assert "Σ" not in captions["W"]
    J.backward(retain_graph=True, retain_grads=True)
    marked = [line for line in draw_graph(J).source.splitlines() if "Σ axis 0" in line]
    assert len(marked) == 1 and "∂Z/∂b" in marked[0]


def test_page_without_dot_says_how_to_install_it_or_lays_out_simply(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no `dot` anywhere
    with pytest.raises(RuntimeError, match="apt-get install graphviz.*layout='simple'"):
        backprop_html(course_example(backward=False))
    page = backprop_html(course_example(backward=False), layout="simple")
    assert page.captions() == COURSE_CAPTIONS
    svg = page.data["layouts"]["expanded"]["svg"]
    titles = re.findall(r'<g class="node"><title>(\w+)</title>', svg)
    assert sorted(titles) == sorted(page.data["nodes"])  # every node, once
    assert svg.count('<g class="edge">') == 6  # b, c → u; a, u → v; 3, v → J
    assert "∂u/∂b = c" in svg and f'fill="{page.data["grad_color"]}">∂J/∂b = 6<' in svg
    with pytest.raises(ValueError, match="layout must be 'dot' or 'simple'"):
        backprop_html(course_example(backward=False), layout="neato")


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="backprop_html: the root does not require grad"):
        backprop_html(Tensor(1.0) * 2)
    with pytest.raises(ValueError, match="backprop_html: rankdir"):
        backprop_html(course_example(backward=False), rankdir="up")
    with pytest.raises(ValueError, match="backprop_html: seconds_per_step must be positive"):
        backprop_html(course_example(backward=False), seconds_per_step=0)
    with pytest.raises(TypeError, match="expected a Tensor"):
        backprop_html(3.0)


def test_gif_has_one_frame_per_step(tmp_path):
    Image = pytest.importorskip("PIL.Image")
    page = backprop_html(course_example(backward=False))
    path = page.save_gif(tmp_path / "bp.gif", seconds_per_step=0.5)
    with Image.open(path) as gif:
        assert gif.format == "GIF" and gif.n_frames == page.steps == 6
        assert gif.info["duration"] == 500
    with pytest.raises(ValueError, match="seconds_per_step"):
        save_gif(course_example(backward=False), tmp_path / "x.gif", seconds_per_step=0)


def test_a_fused_linears_bias_is_marked_summed_and_its_weight_not():
    tg.manual_seed(0)
    layer = nn.Linear(3, 2)
    J = layer(tg.randn(5, 3)).sum()
    J.name = "J"
    captions = dict(zip([s["label"] for s in backprop_html(J, names=layer).data["steps"]],
                        backprop_html(J, names=layer).captions()))
    assert captions["bias"].splitlines()[0] == \
        "∂J/∂bias = ∂J/∂linear#1 · ∂linear#1/∂bias = [5, 5]"  # Σ of five rows of ones
    assert "Σ axis 0 (broadcast)" in captions["bias"]
    assert "Σ" not in captions["weight"]


def test_time_step_scopes_become_boxes_and_a_shared_weight_accumulates_over_them():
    tg.manual_seed(0)
    Wx = tg.randn(2, 3, requires_grad=True)
    Wh = tg.randn(3, 3, requires_grad=True)
    Wx.name, Wh.name = "Wx", "Wh"
    h = tg.zeros(1, 3)
    for t in range(3):
        with scope("rnn"), scope(f"t{t}"):
            h = (tg.randn(1, 2) @ Wx + h @ Wh).tanh()
    J = h.sum()
    J.name = "J"
    page = backprop_html(J, collapse_modules=True)
    assert set(page.data["layouts"]) == {"expanded", "collapsed", "module:t0", "module:t1",
                                         "module:t2"}
    caption = dict(zip([s["label"] for s in page.data["steps"]], page.captions()))["Wx"]
    assert caption.count("∂J/∂Wx += ") == 3  # one term per time step (backprop through time)
    Wx_key = next(k for k, n in page.data["nodes"].items() if n["label"] == "Wx")
    assert page.data["layouts"]["collapsed"]["place"][Wx_key] == Wx_key  # shared: no box


def test_negative_factors_are_parenthesised():
    x = Tensor(2.0, requires_grad=True, name="x")
    J = -x
    J.name = "J"
    assert backprop_html(J).captions()[1].splitlines()[0] == "∂J/∂x = ∂J/∂J · ∂J/∂x = 1 · (-1) = -1"


@pytest.mark.parametrize("layout", ["dot", "simple"])
def test_a_constant_expression_of_a_named_tensor_is_an_op_node_without_a_step(layout):
    y = Tensor(1.0, name="y")
    a = Tensor(0.7, requires_grad=True, name="a")
    J = -(y * a.log() + (1 - y) * (1 - a).log())
    page = backprop_html(J, layout=layout)
    sub = [n for n in page.data["nodes"].values() if n["title"] == "sub#1 = 1 − y"]
    assert len(sub) == 1 and sub[0]["kind"] == "op" and sub[0]["op"] == "sub"
    assert "sub#1" not in [s["label"] for s in page.data["steps"]]  # a constant: no gradient
    assert "sub#1 = 1 − y" in page.data["layouts"]["expanded"]["svg"]
