"""Scale-out on Dask: bounded memory on an 8 GB zarr array, and dotwise against Dask's own.

Sections (each runs on a fresh ``distributed.LocalCluster`` on 127.0.0.1 with
``W`` worker processes of one thread each — for this benchmark the protocol's
"threads" 1 and 2 are **1 and 2 workers**; BLAS is pinned to one thread per worker):

(a) **bounded memory** — ``dotwise.lstsq`` and ``dotwise.PCA(svd_solver="full")`` on a
    ``--rows`` × 50 float64 zarr array (default 20 000 000 rows: 8 GB on disk) with
    every worker limited to ``--memory-limit`` (default 2 GB). The array is generated
    chunk by chunk with a known solution ``x_true`` (``b = A x_true + 1e-3 noise``) and
    known column variances, under ``--workdir`` (default ``$TMPDIR``), and reused by
    later runs (a ``meta.json`` marks a complete store). Reported: the answer's error,
    wall time of one run (8 GB does not allow five), and the peak RSS (``VmHWM``) of
    every process — the client/scheduler process (its figure includes what the harness
    imports to pin threads, torch among them: a few hundred MiB that do not grow with the
    data) and each worker.
(b) **against Dask** — the same cluster, a ``--peer-rows`` × 50 problem (default 500 000) with condition
    number 1e8 persisted on the workers: ``dotwise.lstsq(method="svd")`` (TSQR, SVD of
    R: x, residuals, rank and singular values, as Dask returns) against
    ``dask.array.linalg.lstsq``, and against the in-memory ``dotwise.lstsq`` on the
    gathered array; ``dotwise.PCA`` against ``dask_ml.decomposition.PCA`` ("full" and
    "randomized"). Interleaved timings (N >= 5), the error of ``x`` against the true
    solution and of the smallest singular value against LAPACK's ``gesdd``.

Extra sections (sharded search, ALS) plug in from ``bench_scale_search.py`` when it
exists. **Section signature** (the contract for that file)::

    # bench_scale_search.py
    SECTIONS = [section_c, section_d]          # called in this order, after (a) and (b)
    def add_args(parser): ...                   # optional: extra command-line flags
    def section_c(args, client, workers) -> list[dict]: ...

``args`` is the parsed ``argparse.Namespace`` (``args.quick``, ``args.repeat``,
``args.workdir``, ``args.memory_limit`` and any flags from ``add_args``), ``client`` a
``distributed.Client`` on a fresh LocalCluster of ``workers`` worker processes (one
thread each, ``args.memory_limit`` each, made by :func:`cluster`), and the return value
the protocol rows: dicts with ``case`` (stable across worker counts), ``peer``,
``mode``, ``ratio`` (peer median / dotwise median, or ``None``), ``valid`` and the
``load`` record of ``_harness.measure`` merged in. :func:`process_peaks` gives the
``VmHWM`` of every process for a memory row.

Usage::

    python benchmarks/bench_scale.py --quick     # seconds: 200 000 rows, 1 worker
    python benchmarks/bench_scale.py             # full: 20 M rows (8 GB, generated once)
    python benchmarks/bench_scale.py --workdir /data/tmp --rows 20000000
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness as h

SEED = 20240611
COLS = 50
NOISE = 1e-3
KAPPA = 1e8


# ---------------------------------------------------------------- the cluster
@contextlib.contextmanager
def cluster(workers: int, memory_limit: str):
    """A LocalCluster on 127.0.0.1: ``workers`` processes, 1 thread and 1 BLAS thread each."""
    from distributed import Client, LocalCluster

    one = {v: "1" for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      memory_limit=memory_limit, host="127.0.0.1", dashboard_address=None,
                      worker_dashboard_address=None, env=one) as lc, Client(lc) as client:
        client.wait_for_workers(workers)
        client.run(_warm_up)   # imports on the workers are not part of any timing
        yield client


def _warm_up() -> None:
    import dotwise.scale.models  # noqa: F401  (numpy, scipy, dotwise on the worker)


def _vmhwm_mib() -> float:
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def process_peaks(client) -> dict:
    """Peak RSS (VmHWM, MiB) of the client+scheduler process and of every worker."""
    workers = client.run(_vmhwm_mib)
    return {"client_and_scheduler_mib": round(_vmhwm_mib(), 1),
            "workers_mib": {addr: round(v, 1) for addr, v in sorted(workers.items())}}


# ---------------------------------------------------------------- (a) data on disk
def ensure_store(workdir: Path, rows: int, chunk_rows: int) -> Path:
    """Generate (once) ``A.zarr`` (rows × 50) and ``b.zarr`` with a known solution.

    Columns are independent normals with standard deviations ``SCALES`` and means
    ``OFFSETS``, so PCA's components are the coordinate axes and its explained
    variances ``SCALES**2`` (up to sampling error); ``b = A x_true + NOISE · N(0, 1)``.
    """
    import zarr

    root = workdir / f"dotwise-scale-{rows}x{COLS}-seed{SEED}"
    meta = root / "meta.json"
    if meta.exists() and json.loads(meta.read_text())["complete"]:
        return root
    root.mkdir(parents=True, exist_ok=True)
    x_true, scales, offsets = known_answers()
    A = zarr.create_array(str(root / "A.zarr"), shape=(rows, COLS), chunks=(chunk_rows, COLS),
                          dtype="f8", compressors=None, overwrite=True)
    b = zarr.create_array(str(root / "b.zarr"), shape=(rows,), chunks=(chunk_rows,),
                          dtype="f8", compressors=None, overwrite=True)
    start_t = time.perf_counter()
    for i, start in enumerate(range(0, rows, chunk_rows)):
        r = min(chunk_rows, rows - start)
        rng = np.random.default_rng([SEED, i])
        block = rng.standard_normal((r, COLS)) * scales + offsets
        A[start:start + r] = block
        b[start:start + r] = block @ x_true + NOISE * rng.standard_normal(r)
    tmp = meta.with_suffix(".tmp")
    tmp.write_text(json.dumps({"complete": True, "rows": rows, "cols": COLS,
                               "generate_s": round(time.perf_counter() - start_t, 1)}))
    os.replace(tmp, meta)
    return root


def known_answers():
    rng = np.random.default_rng(SEED)
    x_true = rng.standard_normal(COLS)
    scales = np.linspace(3.0, 0.5, COLS)
    offsets = rng.uniform(-5, 5, COLS)
    return x_true, scales, offsets


def section_bounded_memory(args, client, workers) -> list[dict]:
    import dask.array as da

    import dotwise as dw

    rows = args.rows
    root = ensure_store(args.workdir, rows, args.chunk_rows)
    A, b = da.from_zarr(str(root / "A.zarr")), da.from_zarr(str(root / "b.zarr"))
    x_true, scales, offsets = known_answers()
    out = []
    t0 = time.perf_counter()
    res = dw.lstsq(A, b)
    t_lstsq = time.perf_counter() - t0
    err = float(np.linalg.norm(res.x - x_true) / np.linalg.norm(x_true))
    # LS error ~ NOISE·sqrt(COLS/rows)/|scales|; 50× that flags a wrong answer
    tol = 50 * NOISE * np.sqrt(COLS / rows)
    out.append({"case": f"(a) lstsq {rows}×{COLS} zarr", "peer": "—", "mode": "bounded memory",
                "ratio": None, "valid": bool(err < tol), "method": res.method,
                "x_rel_error": err, "tolerance": tol, "wall_s": round(t_lstsq, 2),
                "memory_limit": args.memory_limit, **process_peaks(client)})
    t0 = time.perf_counter()
    pca = dw.PCA(n_components=10, svd_solver="full").fit(A)
    t_pca = time.perf_counter() - t0
    ev_err = float(np.max(np.abs(pca.explained_variance_ - scales[:10] ** 2) / scales[:10] ** 2))
    ev_tol = 10 * np.sqrt(2.0 / rows)  # sampling error of a variance estimate
    mean_err = float(np.max(np.abs(pca.mean_ - offsets) / scales))
    axes_ok = bool(np.all(np.argmax(np.abs(pca.components_), axis=1) == np.arange(10)))
    peaks = process_peaks(client)
    out.append({"case": f"(a) PCA k=10 {rows}×{COLS} zarr", "peer": "—",
                "mode": "bounded memory", "ratio": None,
                "valid": bool(ev_err < ev_tol and axes_ok and mean_err < 10 / np.sqrt(rows)),
                "ev_rel_error": ev_err, "tolerance": ev_tol, "wall_s": round(t_pca, 2),
                "memory_limit": args.memory_limit, **peaks})
    limit = _bytes(args.memory_limit) / 2**20
    for row in out:
        row["workers_within_limit"] = all(v < limit for v in row["workers_mib"].values())
    return out


def _bytes(text: str) -> int:
    from dask.utils import parse_bytes

    return parse_bytes(text)


# ---------------------------------------------------------------- (b) against Dask
def _ill_block(block_id, rows, seed, mix):
    rng = np.random.default_rng([seed, block_id])
    return rng.standard_normal((rows, mix.shape[0])) @ mix


def ill_conditioned(client, rows: int, chunk_rows: int):
    """A = G S Vᵀ (G Gaussian, S from 1 to 1e-8, V orthogonal) persisted on the workers."""
    import dask.array as da
    from dask import delayed

    rng = np.random.default_rng(SEED + 1)
    V, _ = np.linalg.qr(rng.standard_normal((COLS, COLS)))
    mix = np.logspace(0, -np.log10(KAPPA), COLS)[:, None] * V.T
    blocks, sizes = [], []
    for i, start in enumerate(range(0, rows, chunk_rows)):
        r = min(chunk_rows, rows - start)
        blocks.append(da.from_delayed(delayed(_ill_block)(i, r, SEED + 2, mix), (r, COLS),
                                      dtype=np.float64))
        sizes.append(r)
    A = da.concatenate(blocks, axis=0)
    x_true = rng.standard_normal(COLS)
    b = A @ x_true
    A, b = client.persist([A, b])
    from distributed import wait

    wait([A, b])
    return A, b, x_true


def section_vs_dask(args, client, workers) -> list[dict]:
    import dask.array as da
    import scipy.linalg

    import dotwise as dw

    repeat = args.repeat or (2 if args.quick else 5)
    A, b, x_true = ill_conditioned(client, args.peer_rows, max(args.peer_rows // 16, 1000))
    A_mem, b_mem = client.compute([A, b], sync=True)
    s_ref = scipy.linalg.svdvals(A_mem)   # LAPACK gesdd: the oracle
    errors: dict = {}

    def x_err(x):
        return float(np.linalg.norm(np.asarray(x) - x_true) / np.linalg.norm(x_true))

    contenders = {
        h.DOTWISE: lambda: dw.lstsq(A, b, method="svd"),
        "dask.array.linalg.lstsq": lambda: da.compute(*da.linalg.lstsq(A, b)),
        "dotwise in memory": lambda: dw.lstsq(A_mem, b_mem, method="svd"),
    }

    def check(name, out):
        if name == "dask.array.linalg.lstsq":
            x, s = out[0], out[3]
        else:
            x, s = out.x, out.singular_values
        e, se = x_err(x), float(abs(s[-1] - s_ref[-1]) / s_ref[-1])
        errors[name] = {"x_rel_error": e, "s_min_rel_error": se}
        return e < 1e-4, f"x error {e:.1e}, s_min error {se:.1e}"

    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        timings, load = h.measure(contenders, threads=workers, repeat=repeat, check=check,
                                  retries=_retries(args))
    ours = timings[h.DOTWISE]
    out = []
    for peer in ("dask.array.linalg.lstsq", "dotwise in memory"):
        t = timings[peer]
        out.append({"case": f"(b) lstsq {args.peer_rows}×{COLS} κ=1e8 vs {peer}", "peer": peer,
                    "mode": "default (tsqr)" if peer.startswith("dask") else "NumPy, same call",
                    "ratio": h.ratio(t, ours), "valid": ours.valid and t.valid,
                    "dotwise": {**ours.as_dict(), **errors[h.DOTWISE]},
                    "peer_timing": {**t.as_dict(), **errors[peer]}, **load})
    out += _pca_vs_dask_ml(args, A, A_mem, workers, repeat)
    return out


def _pca_vs_dask_ml(args, A, A_mem, workers, repeat) -> list[dict]:
    import dotwise as dw

    dml = h.optional("dask_ml.decomposition")
    exact = dw.PCA(n_components=10, svd_solver="full").fit(A_mem).explained_variance_
    out = []
    for solver, tol in (("full", 1e-6), ("randomized", 1e-2)):
        case = f"(b) PCA k=10 {solver} {args.peer_rows}×{COLS} κ=1e8 vs dask-ml"
        if dml is None:
            out.append({"case": case, "peer": "dask-ml", "mode": "not installed",
                        "ratio": None, "valid": False})
            continue
        power = {"iterated_power": 2 if args.quick else 4} if solver == "randomized" else {}
        contenders = {
            h.DOTWISE: lambda s=solver, p=power: dw.PCA(n_components=10, svd_solver=s,
                                                        random_state=0, **p).fit(A),
            "dask-ml": lambda s=solver, p=power: dml.PCA(n_components=10, svd_solver=s,
                                                         random_state=0, **p).fit(A),
        }
        errors = {}

        def check(name, model, tol=tol, errors=errors):
            e = float(np.max(np.abs(model.explained_variance_ - exact) / exact))
            errors[name] = e
            return e < tol, f"explained variance error {e:.1e}"

        timings, load = h.measure(contenders, threads=workers, repeat=repeat, check=check,
                                  retries=_retries(args))
        ours, peer = timings[h.DOTWISE], timings["dask-ml"]
        out.append({"case": case, "peer": "dask-ml", "mode": f"svd_solver={solver!r}",
                    "ratio": h.ratio(peer, ours), "valid": ours.valid and peer.valid,
                    "dotwise": {**ours.as_dict(), "ev_rel_error": errors[h.DOTWISE]},
                    "peer_timing": {**peer.as_dict(), "ev_rel_error": errors["dask-ml"]},
                    **load})
    return out


def _retries(args) -> int:
    """Noisy re-runs: none in --quick (it only checks the script works), the protocol's 2 else."""
    return 0 if args.quick else 2


# ---------------------------------------------------------------- sections
#: The sections, in order. helper sections (c) sharded search and (d) ALS are appended
#: from bench_scale_search.SECTIONS when that file exists (see the module docstring).
SECTIONS = [section_bounded_memory, section_vs_dask]


def _extra_module():
    try:
        import bench_scale_search
    except ImportError:
        return None
    return bench_scale_search


def all_sections() -> list:
    extra = _extra_module()
    return SECTIONS + (list(getattr(extra, "SECTIONS", [])) if extra is not None else [])


def run(args, workers: int) -> list[dict]:
    if h.optional("distributed") is None or h.optional("zarr") is None:
        return [{"case": "scale-out", "peer": "dask", "mode": "not installed", "ratio": None,
                 "valid": False}]
    import dask
    import distributed
    import zarr

    versions = {"dask": dask.__version__, "distributed": distributed.__version__,
                "zarr": zarr.__version__}
    dml = h.optional("dask_ml")
    if dml is not None:
        versions["dask_ml"] = dml.__version__
    rows = []
    for section in all_sections():
        with cluster(workers, args.memory_limit) as client:
            for row in section(args, client, workers):
                rows.append({**row, "workers": workers, "threads_per_worker": 1,
                             "versions": versions})
    print(memory_table(rows, workers))
    return rows


def memory_table(rows: list[dict], workers: int) -> str:
    """The rows that carry peak RSS figures, as Markdown (the protocol table shows ratios)."""
    body = []
    for r in rows:
        if "workers_mib" not in r:
            continue
        err = r.get("x_rel_error", r.get("ev_rel_error"))
        body.append([r["case"], "yes" if r.get("valid") else "NO", f"{err:.1e}",
                     f"{r['wall_s']:.1f}", f"{r['client_and_scheduler_mib']:.0f}",
                     ", ".join(f"{v:.0f}" for v in r["workers_mib"].values()),
                     r["memory_limit"]])
    if not body:
        return ""
    return (f"\n{workers} worker(s): peak RSS (VmHWM, MiB)\n\n" + h.markdown_table(
        ["case", "answer ok", "error", "wall s", "client+scheduler", "workers", "limit"],
        body) + "\n")


def add_args(p) -> None:
    p.add_argument("--rows", type=int, default=None,
                   help="rows of the on-disk array for (a) (default 20 000 000; --quick 200 000)")
    p.add_argument("--chunk-rows", type=int, default=250_000,
                   help="rows per zarr chunk (default 250 000: 100 MB)")
    p.add_argument("--peer-rows", type=int, default=None,
                   help="rows of the κ=1e8 problem for (b) (default 500 000; --quick 20 000)")
    p.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()),
                   help="where the generated zarr store lives and is reused (default $TMPDIR)")
    p.add_argument("--memory-limit", default="2GB", help="memory limit per worker (default 2GB)")
    extra = _extra_module()
    if extra is not None and hasattr(extra, "add_args"):
        extra.add_args(p)


def _run_with_defaults(args, workers):
    if args.rows is None:
        args.rows = 200_000 if args.quick else 20_000_000
    if args.peer_rows is None:
        args.peer_rows = 20_000 if args.quick else 500_000
    args.chunk_rows = min(args.chunk_rows, max(args.rows // 4, 1))
    return run(args, workers)


def main(argv=None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--quick" in argv and not any(a.startswith("--threads") for a in argv):
        argv += ["--threads", "1"]
    h.protocol_main(__file__, "scale", __doc__.splitlines()[0], _run_with_defaults,
                    argv=argv, add_args=add_args)


if __name__ == "__main__":
    main()
