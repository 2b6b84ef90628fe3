"""The playground in a real browser: Debian's Chromium driven by Playwright.

Each demo loads without console errors; an interaction (drag, edit, slider, click)
changes the displayed numbers to what the library computes for the new input.
Screenshots go to the ``artifacts_dir`` fixture (test-artifacts/). Never runs
``playwright install``: it uses /usr/bin/chromium and skips when that is absent.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import dotwise as dw

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]

pytest.importorskip("fastapi", reason="the playground needs the web extra: pip install -e '.[web]'")
pytest.importorskip("pydantic", reason="the playground needs the web extra: pip install -e '.[web]'")
uvicorn = pytest.importorskip("uvicorn", reason="the playground needs the web extra")
sync_api = pytest.importorskip("playwright.sync_api",
                               reason="needs playwright (pip install -e '.[browser]')")
if not CHROMIUM.exists():
    pytest.skip(f"needs Debian's Chromium at {CHROMIUM} (apt-get install chromium)",
                allow_module_level=True)

# dotwise's own modules are imported plainly: if one fails to import, these tests fail.
from dotwise.playground import _photos, create_app  # noqa: E402

DEMOS = ["vectors", "matrix", "eigen", "gram", "lstsq", "attention", "search", "svd", "filters"]


# ----------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def base_url():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the playground server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


class Page:
    """A Playwright page on the playground, recording console errors."""

    def __init__(self, page, base_url: str):
        self.page = page
        self.base_url = base_url
        self.errors: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))

    def open(self, demo: str) -> None:
        self.page.goto(f"{self.base_url}/#{demo}")
        self.page.wait_for_function("document.body.dataset.ready === '1'")
        self.wait(demo, 0)

    def seq(self, demo: str) -> int:
        return int(self.page.eval_on_selector(f"#demo-{demo}", "e => e.dataset.seq || '0'"))

    def wait(self, demo: str, after: int, timeout: float = 20_000) -> str:
        self.page.wait_for_function(
            "([d, n]) => { const s = document.querySelector('#demo-' + d);"
            " return Number(s.dataset.seq || 0) > n &&"
            " ['ready', 'error'].includes(s.dataset.state); }", arg=[demo, after],
            timeout=timeout)
        return self.state(demo)

    def state(self, demo: str) -> str:
        return self.page.eval_on_selector(f"#demo-{demo}", "e => e.dataset.state")

    def text(self, selector: str) -> str:
        return self.page.inner_text(selector).strip()

    def number(self, selector: str) -> float:
        return parse_number(self.text(selector))

    def numbers(self, selector: str) -> list[float]:
        return [parse_number(t) for t in re.findall(r"[-−+]?[\d.]+(?:e[-+]?\d+)?|∞",
                                                   self.text(selector))]

    def error(self, demo: str) -> str:
        return self.text(f"#demo-{demo} .error")

    def shot(self, artifacts: Path, name: str) -> Path:
        path = artifacts / f"playground-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


def parse_number(text: str) -> float:
    text = text.strip().replace("−", "-")
    if text in ("∞", "inf"):
        return float("inf")
    return float(text)


@pytest.fixture(scope="module")
def context(browser):
    """One context for the module, so plotly.min.js is fetched and cached once."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 1000})
    yield ctx
    ctx.close()


@pytest.fixture
def pg(context, base_url):
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield Page(page, base_url)
    page.close()


@pytest.fixture(scope="module")
def shared(context, base_url):
    """One page for the load checks: each demo is opened by its tab, in turn."""
    page = context.new_page()
    page.set_default_timeout(20_000)
    p = Page(page, base_url)
    page.goto(base_url + "/")
    page.wait_for_function("document.body.dataset.ready === '1'")
    yield p
    page.close()


def close(shown: float, exact: float) -> bool:
    """The page shows 4 significant digits."""
    return shown == pytest.approx(exact, rel=1e-3, abs=1e-12)


# ----------------------------------------------------------------------------- every demo loads
@pytest.mark.parametrize("demo", DEMOS)
def test_each_demo_loads_without_console_errors(shared, demo, artifacts_dir):
    pg = shared
    pg.errors.clear()
    pg.page.click(f"#tabs button[data-demo='{demo}']")
    pg.wait(demo, 0)  # a demo starts on its first opening
    assert pg.state(demo) == "ready", pg.error(demo)
    assert pg.error(demo) == ""
    assert pg.text(f"#demo-{demo} .explain")
    assert "import dotwise as dw" in pg.text(f"#demo-{demo} pre.python") or \
        "dotwise as dw" in pg.text(f"#demo-{demo} pre.python")
    assert pg.page.eval_on_selector("#demo-" + demo, "e => !e.hidden")
    pg.shot(artifacts_dir, demo)
    assert pg.errors == []


def test_the_docs_page_renders_offline(pg, artifacts_dir):
    pg.page.goto(pg.base_url + "/docs")
    assert "/api/vectors" in pg.page.inner_text("body")
    pg.shot(artifacts_dir, "docs")
    assert pg.errors == []


# ----------------------------------------------------------------------------- interactions
def test_dragging_u_updates_the_numbers_to_the_library_values(pg, artifacts_dir):
    pg.open("vectors")
    to_px = """([x, y]) => { const gd = document.getElementById('vec-plot');
        const fl = gd._fullLayout, r = gd.getBoundingClientRect();
        return [r.left + gd.clientLeft + fl.xaxis._offset + fl.xaxis.d2p(x),
                r.top + gd.clientTop + fl.yaxis._offset + fl.yaxis.d2p(y)]; }"""
    start = pg.page.evaluate(to_px, [3, 2])
    end = pg.page.evaluate(to_px, [-1, 4])
    before = pg.seq("vectors")
    pg.page.mouse.move(*start)
    pg.page.mouse.down()
    pg.page.mouse.move(*end, steps=8)
    pg.page.mouse.up()
    pg.wait("vectors", before)
    pg.page.wait_for_timeout(300)  # let a coalesced last update land
    pg.page.wait_for_function("document.querySelector('#demo-vectors').dataset.state === 'ready'")
    u = [float(pg.page.input_value("#vec-u0")), float(pg.page.input_value("#vec-u1"))]
    v = [4.0, -1.0]
    assert np.allclose(u, [-1, 4], atol=0.15), u
    assert close(pg.number("#vec-dot"), float(dw.dot(u, v)))
    assert close(pg.number("#vec-norm_u"), float(dw.norm(u)))
    assert close(pg.number("#vec-cosine"), float(dw.cosine_similarity(u, v)))
    assert close(pg.number("#vec-angle_degrees"), float(dw.angle(u, v, degrees=True)))
    assert close(pg.number("#vec-scalar_projection"), float(dw.scalar_projection(u, v)))
    proj = dw.vector_projection(u, v)
    shown = pg.numbers("#vec-vector_projection")
    assert all(close(a, b) for a, b in zip(shown, proj, strict=True))
    assert f"u, v = [{u[0]:g}, {u[1]:g}]" in pg.text("#demo-vectors pre.python")
    pg.shot(artifacts_dir, "vectors-dragged")
    assert pg.errors == []


def test_editing_v_and_a_zero_vector_error_is_shown(pg):
    pg.open("vectors")
    before = pg.seq("vectors")
    pg.page.fill("#vec-v0", "-2")
    pg.page.fill("#vec-v1", "5")
    pg.page.press("#vec-v1", "Tab")
    pg.wait("vectors", before)
    pg.page.wait_for_function("document.querySelector('#demo-vectors').dataset.state === 'ready'")
    u, v = [3.0, 2.0], [-2.0, 5.0]
    assert close(pg.number("#vec-dot"), float(dw.dot(u, v)))
    assert close(pg.number("#vec-norm_v"), float(dw.norm(v)))
    before = pg.seq("vectors")
    pg.page.fill("#vec-v0", "0")
    pg.page.fill("#vec-v1", "0")
    pg.page.press("#vec-v1", "Tab")
    pg.page.wait_for_function(
        "document.querySelector('#demo-vectors .error').textContent.includes('zero vector')")
    assert "v is a zero vector" in pg.error("vectors")
    # the only console errors are the browser's notes about the 422 answers
    assert all("422" in e for e in pg.errors), pg.errors


def test_matrix_preset_and_edit(pg, artifacts_dir):
    pg.open("matrix")
    before = pg.seq("matrix")
    pg.page.select_option("#mat-preset", "singular")
    pg.wait("matrix", before)
    assert abs(pg.number("#mat-det")) < 1e-12
    assert "flattened onto a line" in pg.text("#mat-note")
    pg.shot(artifacts_dir, "matrix-singular")
    before = pg.seq("matrix")
    pg.page.fill("#mat-a11", "3")
    pg.page.press("#mat-a11", "Tab")
    pg.wait("matrix", before)
    report = dw.inspect(np.array([[1.0, 2.0], [0.5, 3.0]]))
    assert close(pg.number("#mat-det"), float(np.linalg.det([[1, 2], [0.5, 3]])))
    assert pg.text("#mat-rank").startswith(str(int(report.rank)))
    before = pg.seq("matrix")
    pg.page.fill("#mat-t", "0.5")  # morph halfway from I to A
    pg.wait("matrix", before)
    half = 0.5 * np.eye(2) + 0.5 * np.array([[1.0, 2.0], [0.5, 3.0]])
    label = pg.text("#mat-t-label")
    assert "t = 0.5" in label
    assert close(parse_number(label.rsplit("det", 1)[1]), float(np.linalg.det(half)))
    before = pg.seq("matrix")
    pg.page.select_option("#mat-n", "3")
    pg.wait("matrix", before)
    assert close(pg.number("#mat-det"), 1.0)
    pg.shot(artifacts_dir, "matrix-3d")
    assert pg.errors == []


def test_eigen_power_iteration_steps_towards_the_dominant_vector(pg, artifacts_dir):
    pg.open("eigen")
    A = np.array([[2.0, 1.0], [1.0, 2.0]])
    before = pg.seq("eigen")
    pg.page.click("#eig-step")  # 8 → 9 steps
    pg.wait("eigen", before)
    with pytest.warns(dw.ConvergenceWarning):  # 9 steps stop short of 1e-12, as on the page
        res = dw.power_iteration(A, x0=[1.0, 0.3], max_iter=9, tol=1e-12, return_iterates=True)
    assert "k = 9" in pg.text("#eig-xk")
    assert close(pg.number("#eig-quotient"), float(res.history[0][-1]))
    assert close(pg.number("#eig-residual"), float(res.residual_history[0][-1]))
    assert "symmetric" in pg.text("#eig-kind")
    before = pg.seq("eigen")
    pg.page.select_option("#eig-preset", "shear (defective)")
    pg.wait("eigen", before)
    assert "defective" in pg.text("#eig-kind")
    pg.shot(artifacts_dir, "eigen-shear")
    before = pg.seq("eigen")
    pg.page.select_option("#eig-n", "3")
    pg.wait("eigen", before)
    assert len(pg.text("#eig-pairs").splitlines()) == 3
    pg.shot(artifacts_dir, "eigen-3d")
    assert pg.errors == []


def test_gram_schmidt_method_and_hilbert_slider(pg, artifacts_dir):
    import scipy.linalg

    pg.open("gram")
    pg.page.wait_for_selector("#gs-loss-classical")
    before = pg.seq("gram")
    pg.page.fill("#gs-n", "11")
    pg.page.wait_for_function("document.querySelector('#gs-n-label').textContent.includes('n = 11')")
    pg.wait("gram", before)
    H = scipy.linalg.hilbert(11)
    for method in ("classical", "modified"):
        Q, _ = dw.gram_schmidt(H, method=method)
        assert close(pg.number(f"#gs-loss-{method}"), float(dw.orthogonality_loss(Q)))
    before = pg.seq("gram")
    pg.page.select_option("#gs-method", "classical")
    pg.wait("gram", before)
    V = np.array([[3, 1, 0], [2, 2, 0.5], [1, 0.5, 2]], float).T
    Q, R = dw.gram_schmidt(V, method="classical")
    assert close(pg.number("#gs-remainder"), abs(R[2, 2]))
    pg.page.fill("#gs-step", "2")
    assert close(pg.number("#gs-remainder"), abs(R[1, 1]))
    pg.shot(artifacts_dir, "gram-step2")
    assert pg.errors == []


def test_clicking_adds_a_point_and_the_fit_follows(pg, artifacts_dir):
    pg.open("lstsq")
    points = pg.page.evaluate("dotwise.demos.lstsq.state.points")
    xy = pg.page.evaluate("""() => { const gd = document.getElementById('ls-plot');
        const fl = gd._fullLayout, r = gd.getBoundingClientRect();
        return [r.left + gd.clientLeft + fl.xaxis._offset + fl.xaxis.d2p(2),
                r.top + gd.clientTop + fl.yaxis._offset + fl.yaxis.d2p(-3)]; }""")
    before = pg.seq("lstsq")
    pg.page.mouse.click(*xy)
    pg.wait("lstsq", before)
    new_points = pg.page.evaluate("dotwise.demos.lstsq.state.points")
    assert len(new_points) == len(points) + 1
    assert np.allclose(new_points[-1], [2, -3], atol=0.15)
    x, y = np.array(new_points, float).T
    A = np.vander(x, 2, increasing=True)
    res = dw.lstsq(A, y)
    shown = pg.numbers("#ls-coef")
    assert all(close(a, b) for a, b in zip(shown, res.x, strict=True))
    assert close(pg.number("#ls-residual_norm"), float(np.linalg.norm(y - A @ res.x)))
    # the ridge slider: index 4 is alpha = 1
    before = pg.seq("lstsq")
    pg.page.fill("#ls-alpha", "4")
    pg.wait("lstsq", before)
    ridge = dw.ridge(A, y, 1.0)
    shown = pg.numbers("#ls-ridge")
    assert all(close(a, b) for a, b in zip(shown, ridge, strict=True))
    pg.shot(artifacts_dir, "lstsq-clicked")
    assert pg.errors == []


def test_attention_causal_toggle(pg, artifacts_dir):
    from dotwise.attention import attention_entropy

    pg.open("attention")
    before = pg.seq("attention")
    pg.page.check("#att-causal")
    pg.wait("attention", before)
    q, k, v = (np.array([[float(x) for x in row.split()]
                         for row in pg.page.input_value(f"#att-{n}").strip().split("\n")])
               for n in "qkv")
    _, w = dw.scaled_dot_product_attention(q, k, v, is_causal=True, scale=0.5,
                                           return_weights=True)
    shown = pg.numbers("#att-entropy")
    expected = attention_entropy(w)
    assert len(shown) == len(expected)
    assert all(close(a, b) or abs(a - b) < 1e-6 for a, b in zip(shown, expected, strict=True))
    assert shown[0] == pytest.approx(0, abs=1e-9)  # the first token sees only itself
    pg.shot(artifacts_dir, "attention-causal")
    assert pg.errors == []


def test_search_metric_change(pg, artifacts_dir):
    from sklearn.datasets import load_digits

    pg.open("search")
    before = pg.seq("search")
    pg.page.select_option("#srch-metric", "l2")
    pg.wait("search", before)
    X = load_digits().data
    index = dw.Index(64, metric="l2")
    index.add(X)
    res = index.search(X[0], 9)
    expected = [int(i) for i in np.asarray(res.ids).ravel() if int(i) != 0][:8]
    shown = [int(x) for x in pg.page.eval_on_selector_all(
        "#srch-results figcaption", "els => els.map(e => e.dataset.id)")]
    assert shown == expected
    # typed coordinates: the 64 pixel values of digit #5 find #5 itself first
    before = pg.seq("search")
    pg.page.fill("#srch-typed", " ".join(f"{x:g}" for x in X[5]))
    pg.page.click("#srch-typed-search")
    pg.wait("search", before)
    first = pg.page.eval_on_selector("#srch-results figcaption", "e => e.dataset.id")
    assert int(first) == 5 and pg.text("#srch-query") == "your drawing"
    pg.shot(artifacts_dir, "search-l2")
    assert pg.errors == []


def test_svd_rank_slider(pg, artifacts_dir):
    pg.open("svd")
    before = pg.seq("svd")
    pg.page.fill("#svd-rank", "40")
    pg.wait("svd", before)
    img = _photos.photo("china", 256)  # the default photo ships with scikit-learn
    c = dw.svd_compress(img, rank=40)
    assert close(pg.number("#svd-psnr"), float(dw.psnr(img, c.decompress())))
    assert close(pg.number("#svd-ratio"), float(c.ratio))
    pg.shot(artifacts_dir, "svd-rank40")
    assert pg.errors == []


def test_filters_add_and_reorder_steps(pg, artifacts_dir):
    from dotwise.image import Pipeline, brightness, emboss, gaussian_blur, sepia, sharpen

    pg.open("filters")
    assert pg.text("#flt-n_steps") == "4" and pg.number("#flt-n_passes") == 2
    before = pg.seq("filters")
    pg.page.select_option("#flt-add", "emboss")
    pg.page.click("#flt-add-btn")
    pg.wait("filters", before)
    steps = [gaussian_blur(1.5), sharpen(0.8), sepia(), brightness(1.1), emboss(1.0)]
    assert pg.text("#flt-n_steps") == "5"
    assert pg.number("#flt-n_passes") == Pipeline(steps).fuse().report.passes_after
    before = pg.seq("filters")
    pg.page.click("#flt-steps li:nth-child(5) button.up")  # emboss before brightness
    pg.wait("filters", before)
    steps[3], steps[4] = steps[4], steps[3]
    assert pg.number("#flt-n_passes") == Pipeline(steps).fuse().report.passes_after
    assert pg.text("#flt-fused") == str(Pipeline(steps).fuse().report)
    pg.shot(artifacts_dir, "filters-reordered")
    assert pg.errors == []


def test_tabs_are_built_from_the_demo_list(browser, base_url, artifacts_dir):
    """The page asks GET /api/demos and builds one tab and one section per demo, in order."""
    import json
    import urllib.request

    with urllib.request.urlopen(base_url + "/api/demos") as r:
        demos = json.load(r)["demos"]
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(base_url + "/")
    page.wait_for_function("document.body.dataset.ready === '1'")
    tabs = page.eval_on_selector_all("#tabs button", "bs => bs.map(b => [b.dataset.demo, b.textContent])")
    assert [t[0] for t in tabs] == [d["id"] for d in demos]
    assert [t[1] for t in tabs] == [f"{i + 1} · {d['title']}" for i, d in enumerate(demos)]
    assert page.eval_on_selector_all("section.demo", "s => s.map(e => e.id)") == [
        f"demo-{d['id']}" for d in demos]
    page.wait_for_function("document.querySelector('#demo-vectors').dataset.state === 'ready'")
    page.screenshot(path=str(artifacts_dir / "playground-page-1280x900.png"))
    assert errors == []
    ctx.close()
