"""The standalone HTML export: one self-contained file, user text that cannot escape its JSON, no network, and a
smoke run in headless Chromium from file:// (layout, stepping, a click, no JS errors, no requests)."""

from __future__ import annotations

import json
import re
from contextlib import contextmanager
from html.parser import HTMLParser
from pathlib import Path

import pytest
from render_fixtures import HOSTILE, hostile_model

from gradviz.render.html import BUNDLE, html_document, save_html, script_json

CHROMIUM = "/usr/bin/chromium"
# The only URLs a file may hold: XML namespace and DTD names inside the bundle's strings (never fetched).
INERT_URLS = {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink",
              "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd", "http://www.w3.org/1999/xhtml"}


class Elements(HTMLParser):
    """Every start tag with its attributes, and the text of each <script>."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.scripts: list[tuple[dict, str]] = []
        self._in_script: dict | None = None

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "script":
            self._in_script = dict(attrs)
            self.scripts.append((self._in_script, ""))

    def handle_data(self, data):
        if self._in_script is not None:
            attrs, text = self.scripts[-1]
            self.scripts[-1] = (attrs, text + data)

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = None


def parse(text: str) -> Elements:
    p = Elements()
    p.feed(text)
    p.close()
    return p


def test_script_json_has_no_markup_and_reads_back():
    data = {"a": HOSTILE, "b": ["</SCRIPT>", "<!--", "x\u2028y"]}
    text = script_json(data)
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == data


def test_html_structure_and_the_model_round_trips(tmp_path):
    model = hostile_model()
    path = save_html(model, tmp_path / "t.html", title="T <&> itle")
    assert path == str(tmp_path / "t.html")
    text = Path(path).read_text(encoding="utf-8")
    doc = parse(text)
    # Exactly two scripts: the JSON model and the module with the whole bundle; the hostile text closed neither.
    assert [attrs.get("type") for attrs, _ in doc.scripts] == ["application/json", "module"]
    attrs, json_text = doc.scripts[0]
    assert json.loads(json_text) == model
    assert attrs["id"] == "gradviz-model"
    assert BUNDLE.read_text(encoding="utf-8").strip() in doc.scripts[1][1]
    mounts = [a for tag, a in doc.tags if "data-gradviz-model" in a]
    assert [a["data-gradviz-model"] for a in mounts] == ["gradviz-model"]
    assert "<title>T &lt;&amp;&gt; itle</title>" in text
    # Markup from user text appears nowhere as markup.
    assert "</script>" not in json_text and "<!--" not in text.split('<script type="module">')[0]
    assert [tag for tag, _ in doc.tags if tag == "b"] == []


def test_no_network_references(tmp_path):
    text = Path(save_html(hostile_model(), tmp_path / "t.html")).read_text(encoding="utf-8")
    doc = parse(text)
    for tag, attrs in doc.tags:
        for key in ("src", "href", "action", "srcset", "data"):
            assert key not in attrs, (tag, attrs)
    urls = set(re.findall(r"(?i)\b(?:https?|wss?)://[^\s\"'`<>)\\]*", text))
    assert urls <= INERT_URLS, urls - INERT_URLS
    assert "@import" not in text and not re.search(r"url\(\s*['\"]?(?:https?:)?//", text)
    # The Graphviz WebAssembly is inside the file (no fetch of a .wasm file).
    assert ".wasm\"" not in text and "fetch(" not in text.split('<script type="module">')[0]


def test_a_missing_bundle_says_how_to_build_it(monkeypatch, tmp_path):
    import gradviz.render.html as html_module

    monkeypatch.setattr(html_module, "BUNDLE", tmp_path / "nope.js")
    with pytest.raises(FileNotFoundError, match=r"npm ci && node build.mjs"):
        html_document(hostile_model())


@contextmanager
def _new_page(**options):
    """A page of a fresh headless Debian Chromium (closed after the test)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        try:
            yield browser.new_page(**options)
        finally:
            browser.close()


@pytest.mark.xdist_group("browser")  # with the tests in tests/browser: one Chromium at a time on two cores
def test_opens_from_file_url_and_steps_in_chromium(tmp_path):
    """The exported file in a real browser: laid out offline, stepping moves the highlight, a click fills the
    details panel, a collapsed box expands, hostile text shows as text, no JS errors and no requests."""
    model = hostile_model()
    path = save_html(model, tmp_path / "t.html")
    with _new_page(viewport={"width": 1200, "height": 800}) as page:
        errors, requests = [], []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url))
        page.goto(Path(path).as_uri())
        root = page.locator("div.gradviz")
        page.wait_for_selector('div.gradviz[data-ready="1"]', timeout=30000)
        # Group 1 starts collapsed: nodes 0, 3, 4, 5 and the box g1.
        assert root.get_attribute("data-nodes") == "5"
        ids = page.eval_on_selector_all("svg g.node", "els => els.map(e => e.id).sort()")
        assert ids == ["g1", "n0", "n3", "n4", "n5"]
        assert page.locator("g.node#n5").get_attribute("class").split().count("gv-fail") == 1
        assert "gv-faded" in page.locator("g.node#n4").get_attribute("class")
        # The hostile tap name is text in the SVG, not markup.
        texts = page.eval_on_selector_all("g.node#g1 text", "els => els.map(e => e.textContent)")
        assert texts == ['\u25b8 a<b>&amp; </script><!-- "q" \\back {brace} new', "2 nodes"]
        assert page.locator("svg b").count() == 0

        label = page.locator("span.gradviz-step-label")
        assert label.text_content() == "step 0 / 5"
        page.click('button[data-action="next"]')
        page.click('button[data-action="next"]')
        assert label.text_content() == "step 2 / 5"
        current = page.eval_on_selector_all(".gv-current", "els => els.map(e => e.id)")
        assert current == ["n3"]
        assert page.eval_on_selector_all("g.node.gv-done", "els => els.map(e => e.id)") == ["n5"]
        assert page.eval_on_selector_all("g.node.gv-arrived", "els => els.map(e => e.id)") == ["n5"]
        assert page.eval_on_selector_all("g.node.gv-sent", "els => els.map(e => e.id)") == ["g1"]
        info = page.locator("div.gradviz-stepinfo").text_content()
        assert "from %5 sum" in info and "to %2 multiply (argument 1)" in info and "norm 0.02" in info
        # The keyboard steps too (the root has focus after a click in the graph).
        root.focus()
        page.keyboard.press("ArrowRight")
        assert label.text_content() == "step 3 / 5"
        assert page.eval_on_selector_all(".gv-current", "els => els.map(e => e.id)") == ["g1"]  # hidden in g1
        page.keyboard.press("ArrowLeft")
        assert label.text_content() == "step 2 / 5"

        page.click("g.node#n3")
        details = page.locator("div.gradviz-details").text_content()
        assert "multiply(%2, %2)" in details and "norm 1.7" in details
        assert "gv-selected" in page.locator("g.node#n3").get_attribute("class")

        page.click("g.node#g1")  # expand the box
        page.wait_for_function("document.querySelector('div.gradviz').dataset.nodes === '6'")
        page.wait_for_selector('div.gradviz[data-ready="1"]')
        assert page.locator("g.cluster#g1").count() == 1 and page.locator("g.cluster#g2").count() == 1
        page.click("g.node#n1")
        details = page.locator("div.gradviz-details").text_content()
        assert "/home/u/model.py:12 in layer" in details and "h = np.tanh(x) # </script>" in details

        page.fill("input.gradviz-search", "model.py:12")
        assert page.eval_on_selector_all("g.node.gv-match", "els => els.map(e => e.id).sort()") == ["n1", "n2"]

        # Zoom with the wheel changes the viewBox; fit puts it back.
        view_box = lambda: page.get_attribute("div.gradviz-graph > svg", "viewBox")  # noqa: E731
        page.click('button[data-action="fit"]')
        fitted = view_box()
        page.mouse.move(500, 400)
        page.mouse.wheel(0, -400)
        zoomed = view_box()
        assert float(zoomed.split()[2]) < float(fitted.split()[2])
        page.click('button[data-action="fit"]')
        assert view_box() == fitted

        # Clicking a cluster's label collapses it again; expand-all and collapse-all.
        page.evaluate("() => document.querySelector('div.gradviz').dataset.ready = '0'")
        page.locator("g.cluster#g1 text").first.click()
        page.wait_for_selector('div.gradviz[data-ready="1"]')
        assert root.get_attribute("data-nodes") == "5" and page.locator("g.node#g1").count() == 1
        page.evaluate("() => document.querySelector('div.gradviz').dataset.ready = '0'")
        page.click('button[data-action="collapse-all"]')
        page.wait_for_selector('div.gradviz[data-ready="1"]')
        assert root.get_attribute("data-nodes") == "5"  # g2 is inside g1's box either way
        page.evaluate("() => document.querySelector('div.gradviz').dataset.ready = '0'")
        page.click('button[data-action="expand-all"]')
        page.wait_for_selector('div.gradviz[data-ready="1"]')
        assert root.get_attribute("data-nodes") == "6" and page.locator("g.cluster").count() == 2

        page.click('button[data-action="backward"]')
        page.wait_for_selector('button[data-action="backward"].active')
        page.wait_for_selector('div.gradviz[data-ready="1"]')
        assert label.text_content() == "step 2 / 5"  # the step survives the re-layout
        assert page.eval_on_selector_all(".gv-current", "els => els.map(e => e.id)") == ["n3"]
        page.screenshot(path=str(tmp_path / "backward.png"))
        assert errors == []
        assert [u for u in requests if not u.startswith("file:")] == []


def test_save_html_of_a_real_trace_embeds_its_view_model(tmp_path):
    import numpy

    import gradviz
    import gradviz.numpy as np
    from gradviz.render.model import view_model

    def loss(W, x):
        return np.sum(gradviz.tap(np.tanh(np.dot(W, x)), "h</script>") ** 2)

    trace = gradviz.trace(loss, numpy.eye(2) * 0.5, numpy.array([1.0, -2.0]))
    path = trace.save_html(str(tmp_path / "r.html"), budget=40, title="r")
    doc = parse(Path(path).read_text(encoding="utf-8"))
    embedded = json.loads(doc.scripts[0][1])
    assert embedded == json.loads(json.dumps(view_model(trace, budget=40)))
    assert embedded["budget"] == 40
    assert any(node.get("name") == "h</script>" for node in embedded["nodes"])


def _chain_model(n: int) -> dict:
    """A hand-made view model: an input and a chain of n sin nodes, too long to fit readably in one view."""
    summary = {"type": "f64[2]", "norm": 1.0, "min": -1.0, "max": 1.0, "head": [1.0, -1.0]}
    nodes = [{"id": 0, "op": "input", "role": "input", "type": "f64[2]", "group": 0, "parents": [], "args": [],
              "value": summary}]
    for i in range(1, n + 1):
        nodes.append({"id": i, "op": "sin", "role": "output" if i == n else "operation", "type": "f64[2]",
                      "group": 0, "parents": [[0, i - 1]], "args": [f"%{i - 1}"], "value": summary})
    steps = [{"node": i, "level": 0, "arrived": [[None if i == n else i + 1, None if i == n else 0, summary]],
              "outgrad": summary, "sent": [[0, i - 1, summary]] if i else []} for i in range(n, -1, -1)]
    return {"schema": "gradviz.view", "version": 1, "function": "chain", "argnum": 0, "value": summary,
            "budget": 300, "levels": 1, "sites": [],
            "groups": [{"id": 0, "kind": "root", "label": "chain", "parent": None, "size": n + 1,
                        "collapsed": False}], "nodes": nodes, "steps": steps}


_ZOOM = """() => {
    const graph = document.querySelector('div.gradviz-graph');
    const [, , w, h] = graph.querySelector('svg').getAttribute('viewBox').split(/\\s+/).map(Number);
    return Math.min(graph.clientWidth / w, graph.clientHeight / h);
}"""


@pytest.mark.xdist_group("browser")
def test_a_view_laid_out_while_hidden_opens_readable_and_keeps_its_zoom_when_resized(tmp_path):
    """A notebook can lay a widget out while its output is hidden (no size yet): when it appears it must show the
    graph at a readable zoom, not the whole long chain shrunk to specks; resizing keeps the zoom."""
    path = save_html(_chain_model(120), tmp_path / "chain.html")
    with _new_page(viewport={"width": 1200, "height": 800}) as page:
        errors = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        # Hidden from before the module runs (an adopted style sheet needs no <head> yet).
        page.add_init_script("""(() => { const sheet = new CSSStyleSheet();
            sheet.replaceSync('#gradviz-view { display: none; }'); document.adoptedStyleSheets = [sheet]; })()""")
        page.goto(Path(path).as_uri())
        page.wait_for_selector('div.gradviz[data-ready="1"]', state="attached", timeout=30000)
        assert page.evaluate("() => document.querySelector('div.gradviz-graph').clientWidth") == 0
        page.evaluate("() => { document.adoptedStyleSheets = []; }")
        page.wait_for_function(f"({_ZOOM})() > 0.8", timeout=10000)
        zoom = page.evaluate(_ZOOM)
        assert zoom < 2, zoom
        page.evaluate("() => { document.querySelector('div.gradviz-graph').style.height = '300px'; }")
        page.wait_for_function("() => document.querySelector('div.gradviz-graph').clientHeight === 300")
        page.wait_for_timeout(100)
        assert abs(page.evaluate(_ZOOM) - zoom) < 0.02 * zoom
        # The side panel follows the graph's height.
        assert page.evaluate("() => document.querySelector('div.gradviz-side').style.maxHeight") == "300px"

        # Expand-all and collapse-all end at a readable zoom too (here there is nothing to expand: same view).
        page.evaluate("() => document.querySelector('div.gradviz').dataset.ready = '0'")
        page.click('button[data-action="expand-all"]')
        page.wait_for_selector('div.gradviz[data-ready="1"]')
        page.wait_for_timeout(100)
        assert page.evaluate(_ZOOM) > 0.8
        assert errors == []


@pytest.mark.xdist_group("browser")
def test_the_wheel_scrolls_the_page_until_the_widget_has_focus_then_zooms(tmp_path):
    """A notebook page must not get stuck under the pointer: the wheel zooms only after a click in the widget
    (or with Ctrl held); before that it scrolls the page and a hint says how to zoom."""
    path = save_html(_chain_model(40), tmp_path / "chain.html")
    with _new_page(viewport={"width": 1000, "height": 500}) as page:
        page.goto(Path(path).as_uri())
        page.wait_for_selector('div.gradviz[data-ready="1"]', timeout=30000)
        view_box = lambda: page.get_attribute("div.gradviz-graph > svg", "viewBox")  # noqa: E731
        before = view_box()
        box = page.locator("div.gradviz-graph").bounding_box()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 100)
        page.mouse.wheel(0, 300)
        page.wait_for_function("() => window.scrollY > 0", timeout=5000)
        assert view_box() == before
        assert "gradviz-shown" in page.get_attribute("div.gradviz-wheel-hint", "class")
        page.evaluate("() => window.scrollTo(0, 0)")
        page.mouse.click(box["x"] + 5, box["y"] + 5)  # empty graph background: focus, no selection
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 100)
        page.mouse.wheel(0, -300)
        page.wait_for_function("b => document.querySelector('div.gradviz-graph > svg').getAttribute('viewBox') "
                               "!== b", arg=before, timeout=5000)
        assert float(view_box().split()[2]) < float(before.split()[2])


@pytest.mark.xdist_group("browser")
def test_single_keys_typed_in_the_widget_do_not_reach_the_notebooks_shortcuts(tmp_path):
    """JupyterLab handles its single-key cell commands (b inserts a cell, d d deletes one) on the document: with the
    widget focused those keys must stop in the widget, while Shift+Enter (run the cell) still passes."""
    path = save_html(_chain_model(5), tmp_path / "chain.html")
    with _new_page(viewport={"width": 1000, "height": 700}) as page:
        page.goto(Path(path).as_uri())
        page.wait_for_selector('div.gradviz[data-ready="1"]', timeout=30000)
        page.evaluate("() => { window.seen = []; document.addEventListener('keydown', e => e.key === 'Shift' "
                      "|| window.seen.push((e.shiftKey ? 'Shift+' : '') + e.key)); }")
        for target in ("div.gradviz", "input.gradviz-slider", 'button[data-action="fit"]'):
            page.focus(target)
            for key in ("b", "d", "d", "x"):
                page.keyboard.press(key)
        page.focus("div.gradviz")
        page.keyboard.press("ArrowRight")
        assert page.text_content("span.gradviz-step-label") == "step 1 / 6"
        page.keyboard.press("Shift+Enter")
        assert page.evaluate("() => window.seen") == ["Shift+Enter"]
