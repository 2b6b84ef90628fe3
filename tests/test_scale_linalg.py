"""lstsq, ridge and the estimators on Dask arrays, against the in-memory calls.

Every result computed on a ``distributed.LocalCluster`` (TSQR) is compared with the
same call on the NumPy array: x, residual norms, rank, condition, warnings; the
estimators' coefficients, standard errors, leverage (lazy) and PCA components.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

da = pytest.importorskip("dask.array", reason="the scale extra (dask[array]) is not installed")
distributed = pytest.importorskip("distributed",
                                  reason="the scale extra (distributed) is not installed")

import dotwise as dw  # noqa: E402
from dotwise import IllConditionedWarning  # noqa: E402


def _problem(m=3000, n=6, k=None, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((m, n)).astype(dtype)
    shape = (m,) if k is None else (m, k)
    b = rng.standard_normal(shape).astype(dtype)
    return A, b


def _ill(m, n, cond, seed=0):
    """An m×n matrix with singular values spaced logarithmically from 1 to 1/cond."""
    rng = np.random.default_rng(seed)
    U, _ = np.linalg.qr(rng.standard_normal((m, n)))
    V, _ = np.linalg.qr(rng.standard_normal((n, n)))
    s = np.logspace(0, -np.log10(cond), n)
    return (U * s) @ V.T, s, V


def _warned(fn):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = fn()
    return out, [w for w in caught if issubclass(w.category, IllConditionedWarning)]


# ------------------------------------------------------------------------ lstsq
@pytest.mark.parametrize("k", [None, 3])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_lstsq_matches_in_memory(client, k, dtype):
    A, b = _problem(k=k, dtype=dtype)
    ref = dw.lstsq(A, b)
    res = dw.lstsq(da.from_array(A, chunks=((700, 800, 1000, 500), (6,))), b)
    tol = 1e-12 if dtype == np.float64 else 2e-5
    assert res.method == "tsqr" and res.rank == ref.rank == 6
    assert res.x.dtype == dtype and isinstance(res.x, np.ndarray) and res.x.shape == ref.x.shape
    np.testing.assert_allclose(res.x, ref.x, rtol=tol, atol=tol)
    np.testing.assert_allclose(res.residual_norm, ref.residual_norm, rtol=tol)
    np.testing.assert_allclose(res.residual_norm, np.linalg.norm(b - A @ res.x, axis=0),
                               rtol=10 * tol)
    assert res.cond == pytest.approx(ref.cond, rel=1e-3)
    assert res.rcond == ref.rcond


def test_lstsq_residual_is_orthogonal_to_the_columns(client):
    A, b = _problem(m=5000, n=8, seed=3)
    res = dw.lstsq(da.from_array(A, chunks=(300, 8)), b)   # 17 blocks: a two-level tree
    assert np.abs(A.T @ (A @ res.x - b)).max() < 1e-10 * np.abs(A).sum()


def test_rank_deficient_falls_back_to_svd_of_r_like_in_memory(client):
    A, b = _problem(n=5, seed=1)
    A[:, 4] = A[:, 0] - 2 * A[:, 1]
    ref, ref_w = _warned(lambda: dw.lstsq(A, b))
    res, res_w = _warned(lambda: dw.lstsq(da.from_array(A, chunks=(1000, 5)), b))
    assert (res.method, ref.method) == ("tsqr-svd", "svd")
    assert res.rank == ref.rank == 4
    np.testing.assert_allclose(res.x, ref.x, atol=1e-12)
    np.testing.assert_allclose(res.singular_values[:4], ref.singular_values[:4], rtol=1e-12)
    assert res.residual_norm == pytest.approx(ref.residual_norm, rel=1e-12)
    assert len(res_w) == len(ref_w) == 1
    assert "numerical rank 4 < 5" in str(res_w[0].message)
    assert res_w[0].filename == __file__           # stacklevel points at the caller


def test_ill_conditioned_warns_like_in_memory(client):
    A, _, _ = _ill(2000, 6, 1e12)
    b = A @ np.ones(6)
    ref, ref_w = _warned(lambda: dw.lstsq(A, b))
    res, res_w = _warned(lambda: dw.lstsq(da.from_array(A, chunks=(500, 6)), b))
    assert res.rank == ref.rank == 6 and res.method == "tsqr"
    assert len(res_w) == len(ref_w) == 1 and "ill-conditioned" in str(res_w[0].message)
    assert res.cond == pytest.approx(1e12, rel=0.9)


def test_rcond_rule_is_the_in_memory_rule(client):
    A, _, _ = _ill(2000, 6, 1e7)
    b = A @ np.arange(6.0)
    ref = dw.lstsq(A, b, method="svd", rcond=1e-4)
    res, _ = _warned(lambda: dw.lstsq(da.from_array(A, chunks=(500, 6)), b, rcond=1e-4))
    assert res.method == "tsqr-svd" and res.rank == ref.rank == 3
    np.testing.assert_allclose(res.x, ref.x, rtol=1e-9, atol=1e-12)


def test_svd_and_qr_methods(client):
    A, b = _problem(seed=2)
    Ad = da.from_array(A, chunks=(1000, 6))
    assert dw.lstsq(Ad, b, method="svd").method == "tsqr-svd"
    np.testing.assert_allclose(dw.lstsq(Ad, b, method="pinv").x, dw.lstsq(A, b).x, atol=1e-12)
    A[:, 2] = A[:, 1]
    with pytest.raises(np.linalg.LinAlgError, match="linearly dependent"):
        dw.lstsq(da.from_array(A, chunks=(1000, 6)), b, method="qr")
    with pytest.raises(ValueError, match="method='normal' is not available for Dask"):
        dw.lstsq(Ad, b, method="normal")


def test_better_than_dask_lstsq_on_condition_1e8(client):
    """dask.array.linalg.lstsq's singular values come from eigvalsh(RᵀR): at κ = 1e8 the
    smallest is off by about κ²ε; dotwise's come from the SVD of R (error about κε)."""
    A, s_true, _ = _ill(8_000, 20, 1e8, seed=4)
    x_true = np.random.default_rng(5).standard_normal(20)
    b = A @ x_true
    Ad, bd = client.persist([da.from_array(A, chunks=(1000, 20)), da.from_array(b, chunks=1000)])
    ours = dw.lstsq(Ad, bd, method="svd")
    x_dask, _, _, s_dask = da.compute(*da.linalg.lstsq(Ad, bd))
    err_ours = np.linalg.norm(ours.x - x_true) / np.linalg.norm(x_true)
    err_dask = np.linalg.norm(x_dask - x_true) / np.linalg.norm(x_true)
    assert err_ours < 1e-6 and err_ours <= 2 * err_dask        # x: as good (both stable)
    s_err_ours = abs(ours.singular_values[-1] - s_true[-1]) / s_true[-1]
    s_err_dask = abs(s_dask[-1] - s_true[-1]) / s_true[-1]
    assert s_err_ours < 1e-6 and s_err_dask > 100 * s_err_ours
    assert ours.cond == pytest.approx(1e8, rel=1e-6)


def test_column_chunked_a_says_how_to_rechunk(client):
    A, b = _problem()
    with pytest.raises(ValueError, match=r"chunked along its columns.*A\.rechunk\(\{1: -1\}\)"):
        dw.lstsq(da.from_array(A, chunks=(1000, 3)), b)
    with pytest.raises(ValueError, match="rechunk"):
        dw.ridge(da.from_array(A, chunks=(1000, 2)), b)


def test_unknown_chunks_say_compute_chunk_sizes(client):
    A, b = _problem()
    Ad = da.from_array(A, chunks=(1000, 6))
    masked = Ad[Ad[:, 0] > -100]
    with pytest.raises(ValueError, match="compute_chunk_sizes"):
        dw.lstsq(masked, b)


def test_b_with_other_chunks_or_in_memory(client):
    A, b = _problem(k=2)
    Ad = da.from_array(A, chunks=(1000, 6))
    ref = dw.lstsq(A, b).x
    for bb in (b, da.from_array(b, chunks=(700, 1)), da.from_array(b, chunks=(3000, 2))):
        np.testing.assert_allclose(dw.lstsq(Ad, bb).x, ref, atol=1e-12)


def test_shape_and_value_errors(client):
    A, b = _problem()
    Ad = da.from_array(A, chunks=(1000, 6))
    with pytest.raises(dw.ShapeError, match="same number of rows"):
        dw.lstsq(Ad, b[:-1])
    with pytest.raises(dw.ShapeError, match="tall A"):
        dw.lstsq(da.from_array(A[:4], chunks=(2, 6)), b[:4])
    bad = A.copy()
    bad[2500, 3] = np.nan
    with pytest.raises(ValueError, match=r"found nan at index \(2500, 3\)"):
        dw.lstsq(da.from_array(bad, chunks=(1000, 6)), b)
    with pytest.raises(ValueError, match="rcond must be in"):
        dw.lstsq(Ad, b, rcond=2.0)


def test_empty_problems_match_in_memory(client):
    A, b = _problem(m=40, n=3, k=2)
    for AA, bb in ((A[:, :0], b), (A, b[:, :0])):
        ref = dw.lstsq(AA, bb)
        got = dw.lstsq(da.from_array(AA, chunks=(10, AA.shape[1])), da.from_array(bb))
        assert got.method == ref.method == "empty" and got.x.shape == ref.x.shape
        np.testing.assert_allclose(got.residual_norm, ref.residual_norm, rtol=1e-12)
        assert got.rank == ref.rank == 0


def test_ridge_matches_in_memory(client):
    A, b = _problem(k=2, seed=6)
    Ad = da.from_array(A, chunks=(600, 6))
    for alpha in (0.0, 3.0, [1.0, 100.0]):
        np.testing.assert_allclose(dw.ridge(Ad, b, alpha), dw.ridge(A, b, alpha), atol=1e-12)
    np.testing.assert_allclose(dw.ridge(Ad, b[:, 0], 2.0), dw.ridge(A, b[:, 0], 2.0),
                               atol=1e-12)
    with pytest.raises(ValueError, match="alpha must be >= 0"):
        dw.ridge(Ad, b, -1.0)


def test_two_worker_processes():
    A, b = _problem(m=4000, k=2, seed=7)
    A[:, 5] = A[:, 0]
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster, \
            distributed.Client(cluster) as c:
        Ad = da.from_array(A, chunks=(500, 6)).persist()
        distributed.wait(Ad)
        assert len({w for ws in c.who_has(Ad).values() for w in ws}) == 2  # spread out
        res, _ = _warned(lambda: dw.lstsq(Ad, b))
        model = dw.PCA(n_components=3).fit(Ad)
    ref, _ = _warned(lambda: dw.lstsq(A, b))
    assert res.method == "tsqr-svd" and res.rank == ref.rank == 5
    np.testing.assert_allclose(res.x, ref.x, atol=1e-12)
    np.testing.assert_allclose(model.explained_variance_,
                               dw.PCA(n_components=3, svd_solver="full").fit(A)
                               .explained_variance_, rtol=1e-12)


# ------------------------------------------------------------------- estimators
def _regression(n=2500, p=5, seed=8, dtype=np.float64):
    rng = np.random.default_rng(seed)
    X = (rng.standard_normal((n, p)) * [1, 2, 3, 4, 5][:p] + 7).astype(dtype)
    y = (X @ np.arange(1.0, p + 1) + rng.standard_normal(n)).astype(dtype)
    return X, y


_ATTRS = ("coef_", "intercept_", "coef_stderr_", "intercept_stderr_", "residual_variance_",
          "dof_resid_", "effective_dof_", "rank_", "cond_", "leverage_", "residuals_",
          "studentized_residuals_", "cooks_distance_")
_LAZY = ("leverage_", "residuals_", "studentized_residuals_", "cooks_distance_")


@pytest.mark.parametrize("make", [lambda: dw.LinearRegression(), lambda: dw.Ridge(alpha=10.0),
                                  lambda: dw.LinearRegression(fit_intercept=False)])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("two_targets", [False, True])
def test_regression_estimators_match_in_memory(client, make, weighted, two_targets):
    X, y = _regression()
    if two_targets:
        y = np.column_stack([y, -2 * y + X[:, 0]])
    sw = np.random.default_rng(9).uniform(0, 2, len(X)) if weighted else None
    ref = make().fit(X, y, sample_weight=sw)
    Xd = da.from_array(X, chunks=(600, 5))
    swd = None if sw is None else da.from_array(sw, chunks=1000)
    got = make().fit(Xd, y, sample_weight=swd)
    for name in _ATTRS:
        if not hasattr(ref, name):
            continue
        value = getattr(got, name)
        assert hasattr(value, "dask") == (name in _LAZY), name   # n-row results stay lazy
        np.testing.assert_allclose(np.asarray(value), np.asarray(getattr(ref, name)),
                                   rtol=1e-9, atol=1e-11, err_msg=name)
    pred = got.predict(Xd)
    assert hasattr(pred, "dask")
    np.testing.assert_allclose(pred.compute(), ref.predict(X), rtol=1e-12)


def test_regression_float32_and_rank_deficient_warning(client):
    X, y = _regression(dtype=np.float32)
    got = dw.LinearRegression().fit(da.from_array(X, chunks=(500, 5)), y)
    ref = dw.LinearRegression().fit(X, y)
    assert got.coef_.dtype == np.float32
    np.testing.assert_allclose(got.coef_, ref.coef_, rtol=1e-4)
    X64, y64 = _regression()
    X64[:, 4] = X64[:, 1] + X64[:, 2]
    got, w = _warned(lambda: dw.LinearRegression().fit(da.from_array(X64, chunks=(500, 5)), y64))
    ref, w_ref = _warned(lambda: dw.LinearRegression().fit(X64, y64))
    assert got.rank_ == ref.rank_ == 4 and got.method_ == "tsqr-svd"
    assert len(w) == len(w_ref) == 1 and str(w[0].message).startswith("LinearRegression.fit:")
    np.testing.assert_allclose(got.coef_, ref.coef_, atol=1e-9)
    assert np.isnan(got.coef_stderr_).all()


def test_estimator_errors(client):
    X, y = _regression()
    with pytest.raises(ValueError, match="rechunk"):
        dw.LinearRegression().fit(da.from_array(X, chunks=(500, 2)), y)
    model = dw.Ridge().fit(da.from_array(X, chunks=(500, 5)), y)
    with pytest.raises(ValueError, match="X has 4 features, but Ridge is expecting 5"):
        model.predict(da.from_array(X[:, :4], chunks=(500, 4)))


def _pca_data(n=3000, p=40, seed=10, dtype=np.float64):
    rng = np.random.default_rng(seed)
    basis, _ = np.linalg.qr(rng.standard_normal((p, p)))
    X = (rng.standard_normal((n, p)) / np.sqrt(np.arange(1, p + 1))) @ basis.T + 3
    return X.astype(dtype)


@pytest.mark.parametrize("solver,k", [("full", 5), ("full", 0.8), ("covariance_eigh", 5),
                                      ("randomized", 5), ("auto", None)])
def test_pca_matches_in_memory(client, solver, k):
    X = _pca_data()
    # the randomized solvers (in memory and blockwise) are two different sketches of the
    # same subspace, so they are both judged against the exact decomposition, at the
    # accuracy a randomized SVD promises; the exact solvers must agree to rounding
    exact = solver in ("full", "covariance_eigh", "auto")
    ref = dw.PCA(n_components=k, svd_solver=solver if exact and solver != "auto" else "full",
                 random_state=0).fit(X)
    rtol, atol = (1e-8, 1e-9) if exact else (1e-4, 2e-3)
    Xd = da.from_array(X, chunks=(700, 40))
    got = dw.PCA(n_components=k, svd_solver=solver, random_state=0).fit(Xd)
    assert got.n_components_ == ref.n_components_
    assert isinstance(got.components_, np.ndarray)
    for name in ("explained_variance_", "explained_variance_ratio_", "singular_values_",
                 "mean_", "components_"):
        np.testing.assert_allclose(getattr(got, name), getattr(ref, name), rtol=rtol,
                                   atol=atol if name == "components_" else 1e-10,
                                   err_msg=name)
    assert got.noise_variance_ == pytest.approx(ref.noise_variance_, rel=rtol)
    Z = got.transform(Xd)
    assert hasattr(Z, "dask") and Z.shape == (3000, ref.n_components_)
    np.testing.assert_allclose(Z.compute(), ref.transform(X), atol=1e-9 if exact else 2e-2)
    back = got.inverse_transform(Z)
    assert hasattr(back, "dask")
    np.testing.assert_allclose(back.compute(), ref.inverse_transform(ref.transform(X)),
                               atol=1e-9 if exact else 2e-2)


def test_pca_randomized_on_column_chunked_wide_data(client):
    X = _pca_data(n=900, p=300, seed=11)
    # randomized needs no single column chunk; persisted, so the passes do not resend X
    Xd = client.persist(da.from_array(X, chunks=(450, 100)))
    got = dw.PCA(n_components=5, svd_solver="randomized", random_state=0,
                 iterated_power=3).fit(Xd)
    # judged against the exact decomposition at a randomized SVD's accuracy
    ref = dw.PCA(n_components=5, svd_solver="full").fit(X)
    np.testing.assert_allclose(got.explained_variance_, ref.explained_variance_, rtol=2e-3)
    np.testing.assert_allclose(np.abs(np.sum(got.components_ * ref.components_, axis=1)),
                               1.0, atol=2e-2)
    with pytest.raises(ValueError, match="rechunk"):
        dw.PCA(n_components=5, svd_solver="full").fit(Xd)
    wide = da.from_array(_pca_data(n=60, p=1001, seed=12), chunks=(30, 501))
    assert dw.PCA(n_components=3, random_state=0).fit(wide).svd_solver_ == "randomized"


def test_pca_whiten_float32_fit_transform(client):
    X = _pca_data(dtype=np.float32)
    Xd = da.from_array(X, chunks=(1000, 40))
    got = dw.PCA(n_components=4, whiten=True, svd_solver="full")
    Z = got.fit_transform(Xd)
    ref = dw.PCA(n_components=4, whiten=True, svd_solver="full").fit(X)
    assert got.components_.dtype == np.float32 and Z.dtype == np.float32
    np.testing.assert_allclose(np.cov(Z.compute(), rowvar=False), np.eye(4), atol=1e-3)
    np.testing.assert_allclose(Z.compute(), ref.transform(X), atol=1e-3)


# ------------------------------------------------------------------------- CLI
def test_cli_lstsq_on_a_zarr_store(client, tmp_path):
    zarr = pytest.importorskip("zarr", reason="the scale extra (zarr) is not installed")
    from typer.testing import CliRunner

    from dotwise.cli import get_app

    A, b = _problem(m=2000, n=4, seed=12)
    store = zarr.open_array(str(tmp_path / "A.zarr"), mode="w", shape=(2000, 5),
                            chunks=(500, 2), dtype="f8")   # column chunks: the CLI rechunks
    store[:, :4], store[:, 4] = A, b
    address = client.scheduler.address
    runner = CliRunner()
    out = runner.invoke(get_app(), ["lstsq", str(tmp_path / "A.zarr"), "--b", "-1",
                                    "--scheduler", address, "--json"])
    assert out.exit_code == 0, out.output
    import json

    payload = json.loads(out.output)
    assert payload["method"] == "tsqr"
    np.testing.assert_allclose(payload["x"], dw.lstsq(A, b).x, atol=1e-12)
    np.save(tmp_path / "b.npy", b)
    zarr.open_array(str(tmp_path / "only.zarr"), mode="w", shape=(2000, 4),
                    chunks=(500, 4), dtype="f8")[:] = A
    out = runner.invoke(get_app(), ["lstsq", str(tmp_path / "only.zarr"),
                                    str(tmp_path / "b.npy"), "--scheduler", "threads"])
    assert out.exit_code == 0, out.output
    assert "tsqr" in out.output
    bad = runner.invoke(get_app(), ["lstsq", str(tmp_path / "A.zarr"), "--b", "7",
                                    "--scheduler", "threads"])
    assert bad.exit_code == 2 and "--b 7: A has 5 columns" in bad.output
