"""The step-through page in a real browser: headless Chromium (Debian's ``chromium``
package) driven by Playwright, the page opened from disk (file://) with the network off.

scripts/test.sh installs Chromium (``scripts/setup.sh --browser``) and the dev extra
installs Playwright; elsewhere these tests are skipped, saying which one is missing.
"""

from __future__ import annotations

import io
import os
import shutil

import numpy as np
import pytest
from tinygrad_ng.viz import backprop_html, course_example

from tinygrad_ng import Tensor

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="Playwright is not installed (pip install -e '.[dev]')")
Image = pytest.importorskip("PIL.Image", reason="Pillow is not installed")

CHROMIUM = os.environ.get("TINYGRAD_NG_CHROMIUM") or shutil.which("chromium") or \
    shutil.which("chromium-browser")
if CHROMIUM is None:
    pytest.skip("no Chromium on PATH: install Debian's chromium package "
                "(bash scripts/setup.sh --browser)", allow_module_level=True)

HIGHLIGHT = (0xEA, 0x58, 0x0C)  # the orange of the node being processed


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture
def open_page(browser, tmp_path):
    """Open a page from disk offline; every request it makes is recorded."""
    contexts = []

    def opener(page_obj, name="bp.html"):
        path = page_obj.save(tmp_path / name)
        context = browser.new_context(offline=True, viewport={"width": 1200, "height": 800})
        contexts.append(context)
        tab = context.new_page()
        tab.requests, tab.errors = [], []
        tab.on("request", lambda r: tab.requests.append(r.url))
        tab.on("pageerror", lambda e: tab.errors.append(str(e)))
        tab.goto(path.as_uri())
        return tab

    yield opener
    for c in contexts:
        c.close()


def orange_pixels(png: bytes) -> int:
    rgb = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    return int((np.abs(rgb - np.array(HIGHLIGHT)).sum(axis=2) < 40).sum())


def test_stepping_through_the_course_graph(open_page):
    page = backprop_html(course_example(backward=False))
    tab = open_page(page)
    assert tab.inner_text("#bp-counter") == "step 0 / 6"
    assert tab.locator("g.node.bp-current").count() == 0
    assert "Press Step" in tab.inner_text("#bp-caption")
    before = tab.screenshot()
    for k, step in enumerate(page.data["steps"], 1):
        tab.click("#bp-step")
        current = tab.locator("g.node.bp-current")
        assert current.count() == 1
        assert current.get_attribute("data-label") == step["label"]
        lines = tab.inner_text("#bp-caption").split("\n")
        assert lines[0] == f"step {k} of 6: gradient of {step['label']}"
        assert [line.strip() for line in lines[1:]] == [c.strip() for c in step["caption"]]
        # its gradient is shown on the node from this step on
        assert f"∂J/∂{step['label']} = " in current.text_content()
        assert "?" not in current.text_content()
    assert tab.inner_text("#bp-caption").split("\n")[1] == "∂J/∂a = ∂J/∂v · ∂v/∂a = 3 · 1 = 3"
    assert tab.is_disabled("#bp-step")
    tab.click("#bp-back")
    assert tab.locator("g.node.bp-current").get_attribute("data-label") == "b"
    a_node = tab.locator('g.node[data-label="a"]')
    assert "∂J/∂a = ?" in a_node.text_content()     # not computed yet at step 5
    tab.fill("#bp-slider", "2")                   # the slider jumps
    assert tab.locator("g.node.bp-current").get_attribute("data-label") == "v"

    # the screenshots: not blank, the highlight drawn, the labels on the page
    shot = tab.screenshot()
    pixels = np.asarray(Image.open(io.BytesIO(shot)).convert("L"))
    assert pixels.std() > 20 and (pixels < 128).mean() > 0.005
    assert orange_pixels(shot) > orange_pixels(before) + 300  # the highlighted node
    svg_text = tab.inner_text("#bp-graph")
    for label in ("u = b · c", "v = a + u", "J = 3 · v", "value = 33", "∂u/∂b = c"):
        assert label in svg_text
    for label in ("a", "b", "c", "u", "v", "J"):  # each node's text is drawn in its box
        box = tab.locator(f'g.node[data-label="{label}"] text >> nth=0').bounding_box()
        assert box and box["width"] > 3 and box["height"] > 5
        region = pixels[int(box["y"]):int(box["y"] + box["height"]) + 1,
                        int(box["x"]):int(box["x"] + box["width"]) + 1]
        assert (region < 100).mean() > 0.05, label  # dark glyph pixels, not an empty box
    assert tab.errors == []
    assert all(url.startswith("file://") for url in tab.requests)


@pytest.mark.parametrize("layout", ["dot", "simple"])
def test_hover_shows_value_and_gradient(open_page, layout):
    tab = open_page(backprop_html(course_example(backward=False), layout=layout))
    tab.hover('g.node[data-label="b"]')
    tip = tab.locator("#bp-tip")
    assert tip.is_visible()
    assert tip.inner_text().split("\n")[:4] == [
        "b", "leaf (requires grad) · scalar float32", "value", "3"]
    assert "not computed yet" in tip.inner_text()
    for _ in range(5):
        tab.keyboard.press("ArrowRight")
    tab.hover('g.node[data-label="u"]')
    tab.hover('g.node[data-label="b"]')
    assert tip.inner_text().split("\n")[-2:] == ["gradient ∂J/∂b", "6"]
    assert tab.locator("g.node.bp-current").get_attribute("data-label") == "b"
    tab.mouse.move(2, 2)
    assert not tip.is_visible()


def test_model_page_with_module_boxes_and_a_heatmap(open_page, mlp_cost):
    model, J = mlp_cost(batch=32, hidden=12)
    tab = open_page(backprop_html(J, names=model, collapse_modules=True))
    boxes = tab.locator("g.node[data-box]")
    assert boxes.count() == 3
    tab.click("#bp-step")
    tab.click("#bp-step")
    current = tab.locator("g.node.bp-current")
    assert current.get_attribute("data-box") == "2"     # linear#2 is inside module 2
    current.hover()
    assert "module 2 (collapsed)" in tab.inner_text("#bp-tip")
    current.click()                                      # expand it
    assert tab.locator('g.node[data-label="2.weight"]').count() == 1
    assert tab.locator("g.node[data-box]").count() == 2
    assert tab.locator("g.node.bp-current").get_attribute("data-label") == "linear#2"
    tab.click("#bp-modules")                             # everything expanded
    assert tab.locator("g.node[data-box]").count() == 0
    tab.hover('g.node[data-label="input#1"]')            # 32×3: statistics and a heatmap
    assert tab.inner_text("#bp-tip").split("\n")[3].startswith("mean ")
    assert tab.locator("#bp-tip canvas").count() == 1
    assert tab.errors == []


def test_constants_drawn_per_use_and_the_cut_marker_hover_without_errors(open_page):
    x = Tensor(1.0, requires_grad=True, name="x")
    y = Tensor(4.0, requires_grad=True, name="y")
    J = (2 * x + 2 * y) * (x + 1)
    J.name = "J"
    for max_nodes, expected in ((None, "2"), (4, "… 5 more nodes")):
        tab = open_page(backprop_html(J, max_nodes=max_nodes, seconds_per_step=0.05))
        nodes = tab.locator("g.node")
        labels = [nodes.nth(i).get_attribute("data-label") for i in range(nodes.count())]
        assert labels.count(expected) == (2 if max_nodes is None else 1)
        tab.hover(f'g.node[data-label="{expected}"] >> nth=0')
        assert tab.inner_text("#bp-tip").split("\n")[0] == expected
        tab.click("#bp-play")                       # Play runs to the end
        tab.wait_for_function("document.getElementById('bp-step').disabled", timeout=20000)
        assert tab.inner_text("#bp-play") == "Play"
        assert tab.errors == []
