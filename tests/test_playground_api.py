"""The playground's JSON API: every endpoint against an oracle, its limits, its bad input.

Skips only when the optional web packages are absent; a dotwise module that fails to
import fails these tests.
"""

from __future__ import annotations

import base64
import io
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("fastapi", reason="the playground needs the web extra: pip install -e '.[web]'")
pytest.importorskip("pydantic", reason="the playground needs the web extra: pip install -e '.[web]'")
pytest.importorskip("httpx", reason="FastAPI's TestClient needs httpx")

from fastapi.testclient import TestClient

import dotwise as dw
from dotwise.playground import _json, _photos, create_app
from dotwise.playground.routes import demo_list, discover
from dotwise.playground.schemas import LIMITS, MAX_BODY_BYTES

STATIC = Path(_json.__file__).parent / "static"
DEMOS = ("vectors", "matrix", "eigen", "gram", "lstsq", "attention", "search", "svd", "filters")


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app())


def post_ok(client: TestClient, path: str, body: dict) -> dict:
    r = client.post(path, json=body)
    assert r.status_code == 200, r.text
    return r.json()


def post_422(client: TestClient, path: str, body, match: str) -> str:
    if isinstance(body, (bytes, str)):
        r = client.post(path, content=body, headers={"content-type": "application/json"})
    else:
        r = client.post(path, json=body)
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert isinstance(detail, str) and detail
    assert re.search(match, detail), detail
    return detail


# ----------------------------------------------------------------------------- page and meta
def test_page_loads_plotly_locally_and_builds_its_tabs_from_the_demo_list(client):
    r = client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert '<script src="/vendor/plotly.min.js">' in r.text and 'id="tabs"' in r.text
    assert "cdn" not in r.text.lower() and "https://" not in r.text
    demos = client.get("/api/demos").json()["demos"]
    assert set(DEMOS) <= {d["id"] for d in demos}
    assert [d["order"] for d in demos] == sorted(d["order"] for d in demos)
    for d in demos:  # each demo: its script is served, registers itself and carries its markup
        js = client.get(d["script"])
        assert js.status_code == 200 and "javascript" in js.headers["content-type"]
        ident = d["id"]
        assert f'dotwise.registerDemo({{ id: "{ident}"' in js.text
        assert 'class="explain"' in js.text and 'class="python' in js.text
        assert "cdn" not in js.text.lower() and "https://" not in js.text


def test_every_routes_module_follows_the_plugin_contract():
    modules = discover()
    ids = [m.__name__.rsplit(".", 1)[-1] for m in modules]
    assert set(DEMOS) <= set(ids)
    for m in modules:
        assert isinstance(m.TITLE, str) and m.TITLE
        assert isinstance(m.ORDER, (int, float))
        assert all(route.path.startswith("/api/") for route in m.router.routes)
    assert [d["id"] for d in demo_list()] == [i for i in ids
                                              if (STATIC / "demos" / f"{i}.js").is_file()]


def test_every_url_of_the_api_answers(client):
    """The URLs the page and users know, from before the split into one module per demo."""
    gets = ["/api/limits", "/api/status", "/api/demos", "/api/images", "/api/filters",
            "/api/matrix/presets?n=2", "/api/eigen/presets?n=3", "/api/digits/map"]
    for path in gets:
        assert client.get(path).status_code == 200, path
    posts = {"/api/vectors": {"u": [1, 0], "v": [1, 1]},
             "/api/matrix": {"matrix": [[1, 0], [0, 1]]},
             "/api/eigen": {"matrix": [[2, 1], [1, 2]]},
             "/api/gram-schmidt": {"vectors": [[1, 0, 0]]}, "/api/gram-schmidt/loss": {"n": 3},
             "/api/lstsq": {"points": [[0, 0], [1, 1]]},
             "/api/attention": {"tokens": ["a", "b"]}, "/api/search": {"index": 1, "k": 1},
             "/api/svd": {"rank": 2, "max_side": 32}, "/api/filters": {"steps": [], "max_side": 32}}
    for path, body in posts.items():
        assert client.post(path, json=body).status_code == 200, path


def test_plotly_is_served_from_the_installed_package(client):
    import plotly

    bundled = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    r = client.get("/vendor/plotly.min.js")
    assert r.status_code == 200 and "javascript" in r.headers["content-type"]
    assert r.content == bundled.read_bytes()


@pytest.mark.parametrize("name", ["app.js", "style.css", "index.html", "demos/vectors.js"])
def test_static_files_are_served(client, name):
    assert client.get(f"/static/{name}").status_code == 200


def test_static_files_do_not_escape_their_folder(client):
    for path in ("/static/../app.py", "/static/%2e%2e/app.py", "/static/..%2fapi.py"):
        r = client.get(path)
        assert r.status_code == 404, path
        assert b"create_app" not in r.content


def test_docs_page_is_offline_and_documents_every_endpoint(client):
    r = client.get("/docs")
    assert r.status_code == 200
    assert "cdn" not in r.text.lower() and "<script" not in r.text
    spec = client.get("/openapi.json").json()
    api_paths = [p for p in spec["paths"] if p.startswith("/api/")]
    assert len(api_paths) >= 14
    for path in api_paths:
        assert f"<code>{path}</code>" in r.text
    assert "max_points" in r.text and "maximum" not in spec["paths"]  # limits table rendered


def test_limits_endpoint_matches_the_schemas(client):
    assert client.get("/api/limits").json() == json.loads(json.dumps(LIMITS))


def test_status_tells_the_truth(client):
    st = client.get("/api/status").json()
    assert set(DEMOS) <= set(st["demos"]) and all(d["available"] for d in st["demos"].values())
    import importlib.util

    has_skimage = importlib.util.find_spec("skimage") is not None
    assert st["optional"]["scikit-image"] == has_skimage
    assert st["images"]["china"] and st["images"]["flower"]
    assert st["images"]["astronaut"] == has_skimage


def test_json_helpers_make_non_finite_numbers_safe():
    assert _json.jnum(float("inf")) == "inf" and _json.jnum(-math.inf) == "-inf"
    assert _json.jnum(float("nan")) is None and _json.jnum(np.float32(2.5)) == 2.5
    assert _json.jarr([[1.0, np.inf], [np.nan, 2]]) == [[1.0, "inf"], [None, 2.0]]


# ----------------------------------------------------------------------------- body size
def test_a_body_over_the_size_limit_is_refused_with_the_limit(client):
    body = b'{"u": [' + b"1," * MAX_BODY_BYTES + b'1], "v": [1]}'
    detail = post_422(client, "/api/vectors", body, "too large")
    assert str(MAX_BODY_BYTES) in detail and "max_body_bytes" in detail


def test_a_chunked_body_over_the_limit_is_refused_too(client):
    def chunks():
        yield b'{"u": ['
        for _ in range(MAX_BODY_BYTES // 1000 + 2):
            yield b"1," * 500
        yield b'1], "v": [1]}'

    r = client.post("/api/vectors", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert str(MAX_BODY_BYTES) in r.json()["detail"]


# ----------------------------------------------------------------------------- 1 vectors
@pytest.mark.parametrize("u, v", [([3, 4], [4, 0]), ([1, 2], [-2, 1]), ([-1.5, 0.2], [0.3, -4]),
                                  ([1, 2, 3], [4, 5, 6])])
def test_vectors_match_numpy(client, u, v):
    r = post_ok(client, "/api/vectors", {"u": u, "v": v})
    U, V = np.array(u, float), np.array(v, float)
    cos = U @ V / np.linalg.norm(U) / np.linalg.norm(V)
    assert r["dot"] == pytest.approx(U @ V)
    assert r["norm_u"] == pytest.approx(np.linalg.norm(U))
    assert r["norm_v"] == pytest.approx(np.linalg.norm(V))
    assert r["cosine"] == pytest.approx(cos)
    assert r["angle_degrees"] == pytest.approx(np.degrees(np.arccos(np.clip(cos, -1, 1))))
    assert r["scalar_projection"] == pytest.approx(U @ V / np.linalg.norm(V))
    proj = (U @ V) / (V @ V) * V
    np.testing.assert_allclose(r["vector_projection"], proj, atol=1e-12)
    np.testing.assert_allclose(r["residual"], U - proj, atol=1e-12)
    assert abs(r["residual_dot_v"]) < 1e-9
    span = np.array(r["span_v"])
    d = span[1] - span[0]  # the drawn line through v is parallel to v
    assert abs(d @ V) == pytest.approx(np.linalg.norm(d) * np.linalg.norm(V))
    if r["right_angle"] is not None:  # the corner mark sits at proj, along v and the residual
        a, _, c = np.array(r["right_angle"]) - proj
        assert abs(a @ V) < 1e-9
        assert abs(c @ V) == pytest.approx(np.linalg.norm(c) * np.linalg.norm(V))
    assert "dw.vector_projection(u, v)" in r["python"]
    assert str(u).replace(".0", "") in r["python"].replace(".0", "")


def test_vectors_zero_vector_is_a_readable_library_error(client):
    post_422(client, "/api/vectors", {"u": [0, 0], "v": [1, 2]}, "u is a zero vector")


@pytest.mark.parametrize("body, match", [
    ({"u": [1, 2], "v": [1, 2, 3]}, "same length, got 2 and 3"),
    ({"u": [1] * 17, "v": [1] * 17}, "u: .*at most 16"),
    ({"u": [], "v": []}, "u: .*at least 1"),
    ({"u": [1, "x"], "v": [1, 2]}, r"u\.1: .*number"),
    ({"u": [1, 2e7], "v": [1, 2]}, r"u\.1: .*less than or equal to 1000000"),
    ({"u": [1, 2]}, "v: Field required"),
    ({"u": [1, 2], "v": [1, 2], "w": 3}, "w: Extra inputs are not permitted"),
])
def test_vectors_bad_input(client, body, match):
    post_422(client, "/api/vectors", body, match)


def test_vectors_reject_nan_and_malformed_json(client):
    post_422(client, "/api/vectors", b'{"u": [NaN, 1], "v": [1, 1]}', r"u\.0: .*finite")
    post_422(client, "/api/vectors", b'{"u": [1, 1], "v": [1, 1', "JSON")


# ----------------------------------------------------------------------------- 2 matrix
def test_matrix_presets(client):
    for n in (2, 3):
        presets = client.get(f"/api/matrix/presets?n={n}").json()["presets"]
        assert "identity" in presets and all(np.shape(m) == (n, n) for m in presets.values())
        assert any(np.linalg.matrix_rank(np.array(m)) < n for m in presets.values())
    r = client.get("/api/matrix/presets?n=4")
    assert r.status_code == 422 and "less than or equal to 3" in r.json()["detail"]


@pytest.mark.parametrize("A", [[[1, 1], [0, 1]], [[2, 1], [1, 3]], [[0, -1], [1, 0]],
                               [[1, 2, 0], [0, 1, 0], [1, 0, 3]], [[1, 0], [0, -2]]])
def test_matrix_matches_numpy(client, A):
    r = post_ok(client, "/api/matrix", {"matrix": A})
    M = np.array(A, float)
    assert r["det"] == pytest.approx(np.linalg.det(M))
    assert r["rank"] == np.linalg.matrix_rank(M)
    assert r["cond"] == pytest.approx(np.linalg.cond(M), rel=1e-6)
    np.testing.assert_allclose(r["basis_images"], M.T)
    grid = np.array(r["grid"])
    np.testing.assert_allclose(r["grid_image"], grid @ M.T, atol=1e-12)
    np.testing.assert_allclose(r["shape_image"], np.array(r["shape"]) @ M.T, atol=1e-12)
    for pair in r["eigen"]:
        vec = np.array(pair["vector"])
        np.testing.assert_allclose(M @ vec, pair["value"] * vec, atol=1e-9)
    lam, vecs = np.linalg.eig(M)
    real = np.abs(lam.imag) < 1e-12
    n_real = int(real.sum())
    independent = np.linalg.matrix_rank(vecs[:, real].real, tol=1e-6) if n_real else 0
    assert r["defective"] == (independent < n_real)  # e.g. the shear: one eigen-direction
    assert len(r["eigen"]) == independent
    assert len(r["complex_eigenvalues"]) == len(M) - n_real
    assert r["flattened_to"] is None
    assert isinstance(r["advice"], list) and all(isinstance(a, str) for a in r["advice"])
    assert "dw.inspect(A)" in r["python"]


def test_matrix_morph_draws_the_interpolated_map(client):
    A = np.array([[2.0, 1.0], [0.0, 3.0]])
    r = post_ok(client, "/api/matrix", {"matrix": A.tolist(), "t": 0.25})
    At = 0.75 * np.eye(2) + 0.25 * A
    assert r["det"] == pytest.approx(6.0) and r["det_t"] == pytest.approx(np.linalg.det(At))
    np.testing.assert_allclose(r["grid_image"], np.array(r["grid"]) @ At.T, atol=1e-12)
    np.testing.assert_allclose(r["basis_images"], At.T)
    post_422(client, "/api/matrix", {"matrix": A.tolist(), "t": 1.5}, "t: .*less than or equal to 1")


@pytest.mark.parametrize("A, onto", [([[1, 2], [0.5, 1]], "a line"), ([[0, 0], [0, 0]], "a point"),
                                     ([[1, 2, 3], [2, 4, 6], [1, 2, 3]], "a line"),
                                     ([[1, 0, 0], [0, 1, 0], [0, 0, 0]], "a plane")])
def test_singular_matrices_flatten_space(client, A, onto):
    r = post_ok(client, "/api/matrix", {"matrix": A})
    assert r["flattened_to"] == onto
    assert r["det"] == pytest.approx(0, abs=1e-12)
    assert r["cond"] == "inf"  # singular: the library says so, not 1/rounding


@pytest.mark.parametrize("body, match", [
    ({"matrix": [[1, 2, 3, 4]] * 4}, "matrix: .*at most 3"),
    ({"matrix": [[1, 2, 3], [1, 2, 3]]}, "must be square"),
    ({"matrix": [[1]]}, "matrix: .*at least 2"),
    ({"matrix": [[1, 2], [3, None]]}, r"matrix\.1\.1"),
])
def test_matrix_bad_input(client, body, match):
    post_422(client, "/api/matrix", body, match)


# ----------------------------------------------------------------------------- eigen
@pytest.mark.parametrize("A", [[[2, 1], [1, 2]], [[2, 1], [0.5, 1.5]], [[1, 1], [0, 1]],
                               [[0, -1], [1, 0]], [[2, 1, 0], [1, 2, 1], [0, 1, 2]]])
def test_eigen_matches_numpy_and_power_iteration_walks_as_the_formula_says(client, A):
    r = post_ok(client, "/api/eigen", {"matrix": A, "steps": 6})
    M = np.array(A, float)
    n = len(M)
    lam = np.linalg.eig(M)[0]
    for pair in r["eigen"]:  # every real pair is a true eigenpair
        v = np.array(pair["vector"])
        np.testing.assert_allclose(M @ v, pair["value"] * v, atol=1e-9)
        assert np.min(np.abs(lam - pair["value"])) < 1e-9
    np.testing.assert_allclose(r["eigen_images"], [p["value"] * np.array(p["vector"])
                                                   for p in r["eigen"]], atol=1e-12)
    assert r["symmetric"] == bool(np.allclose(M, M.T))
    assert r["defective"] == (A == [[1, 1], [0, 1]])
    assert len(r["complex_eigenvalues"]) == int(np.sum(np.abs(lam.imag) > 1e-12))
    circle, ellipse = np.array(r["circle"]), np.array(r["ellipse"])
    np.testing.assert_allclose(ellipse, circle @ M.T, atol=1e-12)          # A · circle
    np.testing.assert_allclose(np.linalg.norm(circle, axis=-1), 1.0, atol=1e-12)
    X = np.array(r["iterates"])
    assert X.shape == (r["iterations"] + 1, n)
    for a, b in zip(X[:-1], X[1:], strict=True):                            # x ← Ax / ‖Ax‖
        np.testing.assert_allclose(b, M @ a / np.linalg.norm(M @ a), atol=1e-12)
    np.testing.assert_allclose(r["quotients"], [x @ M @ x for x in X[1:]], atol=1e-12)
    mags = np.sort(np.abs(lam))[::-1]
    assert r["ratio"] == pytest.approx(mags[1] / mags[0])


def test_eigen_python_box_and_bad_input(client):
    r = post_ok(client, "/api/eigen", {"matrix": [[3, 1], [1, 1]], "steps": 4, "x0": [0, 1]})
    with pytest.warns(dw.ConvergenceWarning):  # 4 steps is not convergence, and it says so
        ns = _run(r["python"].replace("print(e)", "str(e)"))
    np.testing.assert_allclose(ns["p"].iterates[0], r["iterates"], atol=1e-14)
    post_422(client, "/api/eigen", {"matrix": [[1, 0], [0, 1]], "x0": [1, 0, 0]},
             "x0 must have 2 entries")
    post_422(client, "/api/eigen", {"matrix": [[1, 0], [0, 1]], "x0": [0, 0]}, "zero vector")
    post_422(client, "/api/eigen", {"matrix": [[1, 0], [0, 1]], "steps": 61},
             "steps: .*less than or equal to 60")


# ----------------------------------------------------------------------------- 3 Gram–Schmidt
@pytest.mark.parametrize("method", ["classical", "modified", "reorthogonalized"])
def test_gram_schmidt_steps_rebuild_q_and_r(client, method):
    vectors = [[3, 1, 0], [2, 2, 0.5], [1, 0.5, 2]]
    r = post_ok(client, "/api/gram-schmidt", {"vectors": vectors, "method": method})
    V = np.array(vectors, float).T
    Q, R = np.array(r["Q"]), np.array(r["R"])
    np.testing.assert_allclose(Q.T @ Q, np.eye(3), atol=1e-12)
    np.testing.assert_allclose(Q @ R, V, atol=1e-12)
    assert r["orthogonality_loss"] == pytest.approx(np.linalg.norm(Q.T @ Q - np.eye(3)), abs=1e-14)
    for i, step in enumerate(r["steps"]):
        passes = 2 if method == "reorthogonalized" else 1
        assert len(step["projections"]) == passes * i
        assert [p["pass"] for p in step["projections"]] == sorted(p["pass"] for p in
                                                                 step["projections"])
        rem = np.array(step["remainder"])
        assert step["remainder_norm"] == pytest.approx(abs(R[i, i]))
        np.testing.assert_allclose(rem / np.linalg.norm(rem), Q[:, i], atol=1e-12)
        for p in step["projections"]:  # each subtracted piece lies along an earlier q
            q = Q[:, p["onto"]]
            np.testing.assert_allclose(np.array(p["vector"]), p["coefficient"] * q, atol=1e-12)
        # what was subtracted is exactly what separates the vector from its remainder
        taken = sum((np.array(p["vector"]) for p in step["projections"]), np.zeros(3))
        np.testing.assert_allclose(np.array(step["vector"]) - taken, rem, atol=1e-12)
        if method == "classical" and i:  # classical: every coefficient from the original v
            Qi = Q[:, :i]
            np.testing.assert_allclose([p["coefficient"] for p in step["projections"]],
                                       Qi.T @ V[:, i], atol=1e-12)


def test_gram_schmidt_loss_orders_the_methods(client):
    r = post_ok(client, "/api/gram-schmidt/loss", {"n": 10})
    loss = {m["method"]: m["loss"] for m in r["methods"]}
    assert r["cond"] > 1e12
    assert loss["classical"] > 1e3 * loss["modified"]
    assert loss["modified"] > 1e3 * loss["reorthogonalized"]
    assert loss["reorthogonalized"] < 1e-13


def test_gram_schmidt_dependent_vectors_give_a_readable_error(client):
    r = client.post("/api/gram-schmidt", json={"vectors": [[1, 2, 3], [2, 4, 6]]})
    assert r.status_code == 422
    assert "depend" in r.json()["detail"].lower() or "rank" in r.json()["detail"].lower()


@pytest.mark.parametrize("path, body, match", [
    ("/api/gram-schmidt", {"vectors": [[1, 0, 0]] * 4}, "vectors: .*at most 3"),
    ("/api/gram-schmidt", {"vectors": [[1, 0]]}, r"vectors\.0: .*at least 3"),
    ("/api/gram-schmidt", {"vectors": [[1, 0, 0]], "method": "fast"}, "method: .*classical"),
    ("/api/gram-schmidt/loss", {"n": 15}, "n: .*less than or equal to 14"),
    ("/api/gram-schmidt/loss", {"n": 1}, "n: .*greater than or equal to 2"),
])
def test_gram_schmidt_bad_input(client, path, body, match):
    post_422(client, path, body, match)


# ----------------------------------------------------------------------------- 4 least squares
POINTS = [[-4, -2.6], [-3, -0.9], [-1.5, -0.6], [0, 0.5], [1, 0.4], [2.5, 2.2], [3.8, 2.4]]


@pytest.mark.parametrize("degree", [0, 1, 2, 3, 6])
def test_lstsq_matches_numpy_and_the_residual_is_orthogonal(client, degree):
    r = post_ok(client, "/api/lstsq", {"points": POINTS, "degree": degree})
    x, y = np.array(POINTS).T
    A = np.vander(x, degree + 1, increasing=True)
    coef = np.linalg.lstsq(A, y, rcond=None)[0]
    np.testing.assert_allclose(r["coef"], coef, rtol=1e-8, atol=1e-10)
    assert r["residual_norm"] == pytest.approx(np.linalg.norm(y - A @ coef), rel=1e-8)
    assert r["At_r_norm"] < 1e-8 * max(1, np.linalg.norm(A) * np.linalg.norm(y))
    np.testing.assert_allclose(r["fitted"], A @ coef, atol=1e-9)
    xs = np.array(r["curve_x"])
    assert xs[0] == -5 and xs[-1] == 5
    np.testing.assert_allclose(r["curve_y"], np.vander(xs, degree + 1, increasing=True) @ coef,
                               atol=1e-8)
    assert r["rank"] == degree + 1 and r["ridge"] is None


def test_lstsq_ridge_matches_the_regularized_normal_equations(client):
    r = post_ok(client, "/api/lstsq", {"points": POINTS, "degree": 3, "alpha": 10.0})
    x, y = np.array(POINTS).T
    A = np.vander(x, 4, increasing=True)
    oracle = np.linalg.solve(A.T @ A + 10.0 * np.eye(4), A.T @ y)
    np.testing.assert_allclose(r["ridge"]["coef"], oracle, rtol=1e-8)
    assert np.linalg.norm(r["ridge"]["coef"]) < np.linalg.norm(r["coef"])
    assert "dw.ridge(A, y, alpha=10)" in r["python"]


def test_lstsq_underdetermined_reports_the_rank(client):
    r = post_ok(client, "/api/lstsq", {"points": [[0, 1], [1, 2]], "degree": 3})
    assert r["rank"] == 2
    np.testing.assert_allclose(r["fitted"], [1, 2], atol=1e-10)


@pytest.mark.parametrize("body, match", [
    ({"points": [[0, 0]] * 201}, "points: .*at most 200"),
    ({"points": []}, "points: .*at least 1"),
    ({"points": POINTS, "degree": 9}, "degree: .*less than or equal to 8"),
    ({"points": POINTS, "alpha": -1}, "alpha: .*greater than or equal to 0"),
    ({"points": POINTS, "alpha": 1e7}, "alpha: .*less than or equal to 1000000"),
    ({"points": [[1, 2, 3]]}, r"points\.0: .*at most 2"),
    ({"points": POINTS, "x_min": 2, "x_max": 1}, "x_min must be < x_max"),
])
def test_lstsq_bad_input(client, body, match):
    post_422(client, "/api/lstsq", body, match)


# ----------------------------------------------------------------------------- 5 attention
def _softmax_rows(s):
    s = s - s.max(axis=1, keepdims=True)
    e = np.exp(s)
    return e / e.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("scaled, causal, temperature", [(True, False, 1.0), (False, False, 1.0),
                                                         (True, True, 0.5), (True, False, 3.0)])
def test_attention_matches_the_formula(client, scaled, causal, temperature):
    tokens = ["the", "cat", "sat", "on", "the", "mat"]
    r = post_ok(client, "/api/attention", {"tokens": tokens, "d": 4, "seed": 3, "scaled": scaled,
                                           "causal": causal, "temperature": temperature})
    q, k, v = (np.array(r[n]) for n in "qkv")
    assert q.shape == k.shape == v.shape == (6, 4)
    scale = (1 / 2 if scaled else 1.0) / temperature
    assert r["scale"] == pytest.approx(scale)
    scores = q @ k.T * scale
    if causal:
        scores = np.where(np.tril(np.ones((6, 6), bool)), scores, -np.inf)
    w = _softmax_rows(scores)
    np.testing.assert_allclose(r["weights"], w, atol=1e-6)
    np.testing.assert_allclose(r["output"], w @ v, atol=1e-6)
    with np.errstate(divide="ignore", invalid="ignore"):
        ent = -np.nansum(np.where(w > 0, w * np.log(w), 0.0), axis=1)
    np.testing.assert_allclose(r["entropy"], ent, atol=1e-5)
    expected_max = np.log(np.arange(1, 7)) if causal else np.full(6, np.log(6))
    np.testing.assert_allclose(r["max_entropy"], expected_max)


def test_attention_uses_given_matrices_and_keeps_the_others(client):
    base = post_ok(client, "/api/attention", {"tokens": ["a", "b", "c"], "d": 2, "seed": 7})
    q = [[1, 0], [0, 1], [1, 1]]
    r = post_ok(client, "/api/attention", {"tokens": ["a", "b", "c"], "d": 2, "seed": 7, "q": q})
    assert r["q"] == q and r["k"] == base["k"] and r["v"] == base["v"]
    assert np.allclose(np.array(r["weights"]).sum(axis=1), 1)


def test_lower_temperature_sharpens_attention(client):
    body = {"tokens": list("abcdef"), "d": 8, "seed": 1}
    hot = post_ok(client, "/api/attention", {**body, "temperature": 5})
    cold = post_ok(client, "/api/attention", {**body, "temperature": 0.1})
    assert np.mean(cold["entropy"]) < np.mean(hot["entropy"])


@pytest.mark.parametrize("body, match", [
    ({"tokens": list("abcdefghijklm")}, "tokens: .*at most 12"),
    ({"tokens": ["a" * 17]}, r"tokens\.0: .*at most 16"),
    ({"tokens": ["a", "b"], "d": 17}, "d: .*less than or equal to 16"),
    ({"tokens": ["a", "b"], "d": 2, "q": [[1, 2]]}, r"q must have one row per token .*2×2, got 1×2"),
    ({"tokens": ["a", "b"], "d": 2, "k": [[1, 2], [1]]}, "k must be rectangular"),
    ({"tokens": ["a"], "temperature": 0}, "temperature: .*greater than or equal to 0.05"),
])
def test_attention_bad_input(client, body, match):
    post_422(client, "/api/attention", body, match)


# ----------------------------------------------------------------------------- 6 search
def _digits():
    from sklearn.datasets import load_digits

    d = load_digits()
    return d.data.astype(float), d.target


@pytest.mark.parametrize("metric", ["cosine", "l2", "dot"])
def test_search_matches_brute_force(client, metric):
    X, y = _digits()
    r = post_ok(client, "/api/search", {"index": 42, "metric": metric, "k": 5})
    q = X[42]
    if metric == "cosine":
        s = X @ q / np.linalg.norm(X, axis=1) / np.linalg.norm(q)
        order = np.argsort(-s, kind="stable")
    elif metric == "dot":
        s = X @ q
        order = np.argsort(-s, kind="stable")
    else:
        s = np.linalg.norm(X - q, axis=1)
        order = np.argsort(s, kind="stable")
    expected = [i for i in order if i != 42][:5]
    got = [n["id"] for n in r["neighbours"]]
    assert 42 not in got and len(got) == 5
    # float32 index: allow ties at the boundary by comparing scores, not only ids
    np.testing.assert_allclose([n["score"] for n in r["neighbours"]], s[expected], rtol=1e-4)
    assert [n["label"] for n in r["neighbours"]] == [int(y[i]) for i in got]
    assert r["query_label"] == int(y[42])
    assert len(r["neighbours"][0]["pixels"]) == 64


def test_search_by_pixels_and_the_pca_map(client):
    X, y = _digits()
    r = post_ok(client, "/api/search", {"pixels": X[7].tolist(), "k": 3})
    assert r["neighbours"][0]["id"] == 7 and r["query_label"] is None
    m = client.get("/api/digits/map").json()
    xy = np.array(m["xy"])
    assert xy.shape == (1797, 2) and m["labels"] == y.tolist()
    from sklearn.decomposition import PCA

    ref = PCA(n_components=2).fit_transform(X)
    for j in range(2):  # components are defined up to sign
        c = np.corrcoef(xy[:, j], ref[:, j])[0, 1]
        assert abs(c) > 0.9999
    np.testing.assert_allclose(r["query_xy"], xy[7], atol=2e-3)


@pytest.mark.parametrize("body, match", [
    ({}, "exactly one of index"),
    ({"index": 1, "pixels": [0] * 64}, "exactly one of index"),
    ({"index": 1797}, "index: .*less than or equal to 1796"),
    ({"pixels": [0] * 63}, "pixels: .*at least 64"),
    ({"pixels": [17] + [0] * 63}, r"pixels\.0: .*less than or equal to 16"),
    ({"index": 1, "k": 21}, "k: .*less than or equal to 20"),
    ({"index": 1, "metric": "manhattan"}, "metric: .*cosine"),
])
def test_search_bad_input(client, body, match):
    post_422(client, "/api/search", body, match)


# ----------------------------------------------------------------------------- 7 SVD
def _decode(url: str) -> np.ndarray:
    from PIL import Image

    assert url.startswith("data:image/png;base64,")
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))))


def test_svd_quality_grows_with_rank(client):
    low = post_ok(client, "/api/svd", {"image": "china", "rank": 5, "max_side": 128})
    high = post_ok(client, "/api/svd", {"image": "china", "rank": 60, "max_side": 128})
    assert high["psnr"] > low["psnr"] > 10
    assert high["nbytes"] > low["nbytes"] and 0 < low["ratio"] < high["ratio"]
    assert 0 < low["energy"] < high["energy"] <= 1
    orig = _decode(low["original"])
    assert orig.shape == (85, 128, 3) and _decode(low["reconstruction"]).shape == orig.shape
    sv = np.array(high["singular_values"])
    assert sv.shape[0] == 3 and np.all(np.diff(sv, axis=1) <= 1e-9)
    # energy is the share of the squared spectrum kept by the first r values (oracle: numpy)
    img = _photos.photo("china", 128).astype(float)
    s = np.linalg.svd(img[:, :, 0], compute_uv=False)
    np.testing.assert_allclose(sv[0], s[:200], rtol=1e-5, atol=1e-6)
    energy = sum(np.sum(np.linalg.svd(img[:, :, c], compute_uv=False)[:60] ** 2)
                 for c in range(3)) / np.sum(img ** 2)
    assert high["energy"] == pytest.approx(energy, rel=1e-6)


def test_svd_rank_over_the_image_size_is_refused(client):
    post_422(client, "/api/svd", {"image": "camera", "rank": 200, "max_side": 64},
             r"rank must be at most min\(height, width\) = 64")


@pytest.mark.parametrize("body, match", [
    ({"image": "../../etc/passwd"}, "image: .*astronaut"),
    ({"image": "astronaut", "rank": 0}, "rank: .*greater than or equal to 1"),
    ({"image": "astronaut", "max_side": 2048}, "max_side: .*less than or equal to 384"),
    ({"image": "astronaut", "path": "/etc/passwd"}, "path: Extra inputs are not permitted"),
])
def test_svd_bad_input_and_no_paths(client, body, match):
    post_422(client, "/api/svd", body, match)


def test_images_lists_names_only(client):
    r = client.get("/api/images").json()
    assert "astronaut" in r["images"] and all("/" not in n for n in r["images"])
    assert r["default"] == "china"
    sources = {d["name"]: d["source"] for d in r["details"]}
    assert sources["china"] == sources["flower"] == "scikit-learn"
    assert sources["astronaut"] == "scikit-image"


@pytest.fixture
def without_skimage(monkeypatch):
    """As if only the web extra were installed: scikit-image cannot be imported."""
    import importlib.util
    import sys

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name.split(".")[0] == "skimage" else real(name, *a))
    monkeypatch.setitem(sys.modules, "skimage", None)
    monkeypatch.setitem(sys.modules, "skimage.data", None)
    _photos.photo.cache_clear()
    _photos.photo_png.cache_clear()
    yield
    _photos.photo.cache_clear()
    _photos.photo_png.cache_clear()


def test_without_scikit_image_the_defaults_work_and_its_photos_are_a_4xx(client, without_skimage):
    st = client.get("/api/status").json()
    assert st["optional"]["scikit-image"] is False
    assert st["images"] == {"china": True, "flower": True, "astronaut": False, "camera": False,
                            "coffee": False, "chelsea": False}
    r = client.get("/api/images").json()
    astronaut = next(d for d in r["details"] if d["name"] == "astronaut")
    assert astronaut["available"] is False and astronaut["install"] == "pip install scikit-image"
    assert post_ok(client, "/api/svd", {"max_side": 64})["image"] == "china"   # the defaults
    assert post_ok(client, "/api/filters", {"steps": [], "max_side": 64})["image"] == "china"
    for path, body in (("/api/svd", {"image": "astronaut", "max_side": 64}),
                       ("/api/filters", {"image": "coffee", "steps": [], "max_side": 64})):
        detail = post_422(client, path, body, "pip install scikit-image")
        assert "china" in detail


# ----------------------------------------------------------------------------- 8 filters
def test_filter_catalogue_has_parameter_ranges(client):
    cat = client.get("/api/filters").json()["filters"]
    assert {"gaussian_blur", "sharpen", "sepia", "grayscale"} <= set(cat)
    for params in cat.values():
        for p in params:
            assert p["min"] <= p["default"] <= p["max"]


def test_filters_apply_the_fused_pipeline(client):
    from dotwise.image import Pipeline, gaussian_blur, sepia

    steps = [{"name": "gaussian_blur", "params": {"sigma": 1.5}}, {"name": "sharpen", "params": {}},
             {"name": "sepia", "params": {}}, {"name": "brightness", "params": {"factor": 1.1}}]
    r = post_ok(client, "/api/filters", {"image": "coffee", "steps": steps, "max_side": 96})
    assert r["n_steps"] == 4 and r["n_passes"] == 2
    assert r["steps"][0] == "gaussian_blur(1.5)"
    img = _photos.photo("coffee", 96)
    from dotwise.image import brightness, sharpen

    ref = Pipeline([gaussian_blur(1.5), sharpen(1.0), sepia(), brightness(1.1)])(img)
    expected = np.clip(np.asarray(ref, float) * 255 + 0.5, 0, 255).astype(np.uint8)
    got = _decode(r["result"])
    assert got.shape == expected.shape
    assert np.max(np.abs(got.astype(int) - expected.astype(int))) <= 1
    none = post_ok(client, "/api/filters", {"image": "coffee", "steps": [], "max_side": 96})
    assert np.array_equal(_decode(none["result"]), _decode(none["original"]))


@pytest.mark.parametrize("body, match", [
    ({"steps": [{"name": "rm -rf"}]}, "unknown filter 'rm -rf'; choose one of gaussian_blur"),
    ({"steps": [{"name": "gaussian_blur", "params": {"sigma": 50}}]},
     r"gaussian_blur\.sigma must be in \[0\.3, 8\], got 50"),
    ({"steps": [{"name": "sepia", "params": {"amount": 1}}]},
     "filter 'sepia' has no parameter.*amount; it takes none"),
    ({"steps": [{"name": "sepia"}] * 9}, "steps: .*at most 8"),
])
def test_filters_bad_input(client, body, match):
    post_422(client, "/api/filters", body, match)


# ----------------------------------------------------------------------------- Python boxes
def _run(code: str) -> dict:
    namespace: dict = {}
    exec(compile(code, "<python box>", "exec"), namespace)  # the page's code, verbatim
    return namespace


def test_the_python_box_reproduces_demo_1(client):
    r = post_ok(client, "/api/vectors", {"u": [1.5, -2], "v": [3, 0.5]})
    ns = _run(r["python"])
    assert float(ns["dw"].dot(ns["u"], ns["v"])) == pytest.approx(r["dot"])
    np.testing.assert_allclose(ns["dw"].vector_projection(ns["u"], ns["v"]),
                               r["vector_projection"])


def test_the_python_box_reproduces_demo_4(client):
    r = post_ok(client, "/api/lstsq", {"points": POINTS, "degree": 2, "alpha": 0.5})
    ns = _run(r["python"])
    np.testing.assert_allclose(ns["res"].x, r["coef"], rtol=1e-10)
    np.testing.assert_allclose(ns["r"], r["residuals"], atol=1e-12)


def test_the_python_box_reproduces_demo_3(client):
    r = post_ok(client, "/api/gram-schmidt", {"vectors": [[1, 2, 0], [0, 1, 1], [1, 0, 3]],
                                              "method": "classical"})
    ns = _run(r["python"])
    np.testing.assert_allclose(ns["Q"], r["Q"], atol=1e-14)


def test_the_python_box_reproduces_demo_2(client):
    r = post_ok(client, "/api/matrix", {"matrix": [[2, 1], [1, 3]]})
    ns = _run(r["python"].replace("print(report)", "str(report)"))
    assert float(ns["report"].det) == pytest.approx(r["det"])


def test_the_python_box_reproduces_demo_5(client):
    r = post_ok(client, "/api/attention", {"tokens": ["a", "b", "c"], "d": 3, "seed": 2,
                                           "temperature": 0.7, "causal": True})
    ns = _run(r["python"])
    np.testing.assert_allclose(ns["w"], r["weights"], atol=1e-7)


def test_the_python_box_reproduces_demo_6(client):
    r = post_ok(client, "/api/search", {"index": 11, "metric": "cosine", "k": 4})
    ns = _run(r["python"])
    ids = [int(i) for i in np.asarray(ns["res"].ids).ravel() if int(i) != 11][:4]
    assert ids == [n["id"] for n in r["neighbours"]]
    X, _ = _digits()
    typed = post_ok(client, "/api/search", {"pixels": X[3].tolist(), "metric": "l2", "k": 3})
    ns = _run(typed["python"])
    assert np.asarray(ns["res"].ids).ravel().tolist() == [n["id"] for n in typed["neighbours"]]


def test_the_python_box_reproduces_demo_7(client):
    r = post_ok(client, "/api/svd", {"image": "coffee", "rank": 12, "max_side": 96})
    ns = _run(r["python"])
    assert ns["c"].nbytes == r["nbytes"]
    assert float(ns["dw"].psnr(ns["img"], ns["c"].decompress())) == pytest.approx(r["psnr"])


def test_the_python_box_reproduces_demo_8(client):
    steps = [{"name": "gaussian_blur", "params": {"sigma": 1}}, {"name": "grayscale"}]
    r = post_ok(client, "/api/filters", {"image": "chelsea", "steps": steps, "max_side": 64})
    ns = _run(r["python"])
    expected = np.clip(np.asarray(ns["out"], float) * 255 + 0.5, 0, 255).astype(np.uint8)
    got = _decode(r["result"])
    assert np.max(np.abs(got.astype(int) - expected.reshape(got.shape).astype(int))) <= 1
