"""Scale-out, search and ALS: dotwise on a Dask cluster vs in memory and vs FAISS.

Sections (each ``section(args, client, workers) -> rows``; ``bench_scale.py``
runs them on its clusters through ``SECTIONS``):

(c) **sharded exact search** — a 4 000 000 × 128 float32 collection in a zarr
    store on disk (generated chunk by chunk from a seed, kept between runs in
    ``--data-dir``), 100 queries, k = 10, metric ``dot``:

    * on a 500 000-row subset: ``dotwise.exact_search`` on the zarr array over
      the cluster vs the in-memory ``Index`` (``dot``, the vectors already in
      RAM) and vs FAISS ``IndexFlatIP`` (``faiss.omp_set_num_threads``) on the
      same subset; answers must be the in-memory ids (FAISS: recall@10 ≥ 0.999);
    * the whole 4 000 000 rows on the cluster: time and rows/s, answers checked
      against in-memory searches of 500 000-row slabs merged by a plain sort
      (no peer: the point of the row is that nothing is gathered).

(d) **ALS** — ``MatrixFactorization(neighbors=0).fit(ml100k, client=client)`` vs
    the in-memory fit on MovieLens 100k (``u1.base``; ``--ml100k`` or
    ``$DOTWISE_SHARED_DATA/movielens-100k``): seconds per epoch, and the same
    ``loss_history_`` and test RMSE (``u1.test``) required.

Clusters when run alone: ``distributed.LocalCluster`` on 127.0.0.1 with 1 worker
(at 1 and 2 threads) and 2 workers × 1 thread (at 2 threads only — two workers
on one thread would use two cores); worker processes, whose BLAS Dask pins to
one thread per task.

Run: ``flock /tmp/dotwise-bench.lock python benchmarks/bench_scale_search.py``
(``--quick`` for a smoke run of a few seconds).
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import measure, optional, protocol_main, ratio

REPO = Path(__file__).resolve().parents[1]
K = 10
SEED = 20261201


def add_args(p) -> None:
    """The size flags of these sections (``bench_scale.py`` adds them to its parser)."""
    p.add_argument("--search-rows", type=int, default=None,
                   help="rows of the sharded collection (default 4 000 000; quick 40 000)")
    p.add_argument("--search-subset", type=int, default=None,
                   help="rows compared in memory and with FAISS (default 500 000)")
    p.add_argument("--search-dim", type=int, default=128, help="vector dimension (128)")
    p.add_argument("--search-chunk", type=int, default=None,
                   help="rows per zarr chunk / task (default 250 000)")
    p.add_argument("--search-queries", type=int, default=100, help="queries per search (100)")
    p.add_argument("--data-dir", type=Path, default=None,
                   help="where the generated zarr collection is kept between runs "
                        "(default $DOTWISE_BENCH_DATA or the temp dir)")
    p.add_argument("--ml100k", type=Path, default=None,
                   help="MovieLens 100k folder (default $DOTWISE_SHARED_DATA/movielens-100k)")
    p.add_argument("--als-epochs", type=int, default=None, help="ALS epochs (6; quick 2)")


def _opt(args, name: str, full: Any, quick: Any) -> Any:
    value = getattr(args, name, None)
    if value is not None:
        return value
    return quick if getattr(args, "quick", False) else full


def _retries(args) -> int:
    # the protocol re-runs noisy rows twice; a --quick smoke run only checks the script works
    return 0 if getattr(args, "quick", False) else 2


def _row(case: str, peer: str, mode: str, ours, theirs, load: dict, valid: bool, note: str,
         **extra) -> dict[str, Any]:
    return {"case": case, "peer": peer, "mode": mode, "ratio": ratio(theirs, ours),
            "valid": bool(valid), "note": note,
            "dotwise": ours.as_dict() if ours is not None else None,
            "peer_timing": theirs.as_dict() if theirs is not None else None,
            **load, **extra}


# ------------------------------------------------------------------ (c) sharded search
def _collection(args) -> tuple[Path, int, int, int]:
    from dotwise.scale.zarr_io import open_zarr, write_random_vectors

    n = _opt(args, "search_rows", 4_000_000, 40_000)
    d = getattr(args, "search_dim", 128) or 128
    chunk = _opt(args, "search_chunk", 250_000, 10_000)
    root = Path(getattr(args, "data_dir", None) or os.environ.get("DOTWISE_BENCH_DATA")
                or Path(tempfile.gettempdir()) / "dotwise-bench")
    path = root / f"normal-{n}x{d}-c{chunk}-seed{SEED}.zarr"
    try:
        z = open_zarr(path)
        ok = z.shape == (n, d) and z.chunks == (chunk, d)
    except Exception:
        ok = False
    if not ok:
        t0 = time.perf_counter()
        write_random_vectors(path, n, d, chunk_rows=chunk, seed=SEED)
        print(f"[scale-search] wrote {path} in {time.perf_counter() - t0:.1f} s",
              file=sys.stderr)
    return path, n, d, chunk


def _reference(z, Q, rows: int, slab: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-k of the first ``rows`` rows: in-memory searches of slabs, one sort."""
    import dotwise as dw

    ids, scores = [], []
    for s in range(0, rows, slab):
        X = np.asarray(z[s:min(s + slab, rows)])
        r = dw.exact_search(X, Q, k=K, metric="dot")
        ids.append(r.ids + s)
        scores.append(r.scores)
    ids, scores = np.concatenate(ids, axis=1), np.concatenate(scores, axis=1)
    order = np.lexsort((ids, -scores), axis=-1)[:, :K]
    return np.take_along_axis(ids, order, 1), np.take_along_axis(scores, order, 1)


def section_search(args, client, workers: int) -> list[dict[str, Any]]:
    """(c) sharded exact search on ``client``'s ``workers`` workers."""
    import dask.array as da

    import dotwise as dw
    from dotwise.scale.search import exact_search as sharded
    from dotwise.scale.zarr_io import open_zarr
    from dotwise.search import Index

    threads = int(os.environ.get("OMP_NUM_THREADS", "1"))
    repeat = getattr(args, "repeat", None) or (2 if getattr(args, "quick", False) else 5)
    path, n, d, chunk = _collection(args)
    sub = min(_opt(args, "search_subset", 500_000, 20_000), n)
    nq = getattr(args, "search_queries", 100) or 100
    z = open_zarr(path)
    Q = np.random.default_rng(SEED + 1).standard_normal((nq, d), dtype=np.float32)
    where = f"{workers} worker(s) × {_threads_per_worker(client)} thread(s)"
    rows: list[dict[str, Any]] = []

    # -- the subset: sharded vs in-memory Index vs FAISS
    Xs = np.asarray(z[:sub])
    index = Index(d, metric="dot")
    index.add(Xs)
    Xd = da.from_zarr(str(path), chunks=(chunk, d))[:sub]
    contenders = {"dotwise sharded": lambda: sharded(Xd, Q, k=K, metric="dot", client=client),
                  "dotwise Index": lambda: index.search(Q, k=K)}
    faiss = optional("faiss")
    if faiss is not None:
        faiss.omp_set_num_threads(threads)
        flat = faiss.IndexFlatIP(d)
        flat.add(Xs)
        contenders["faiss IndexFlatIP"] = lambda: flat.search(Q, K)
    truth = index.search(Q, k=K)

    def check(name, result):
        if name == "faiss IndexFlatIP":
            rec = dw.recall_at_k(np.asarray(result[1]), truth.ids)
            return rec >= 0.999, f"recall@10 {rec:.4f}"
        same = np.array_equal(result.ids, truth.ids)
        close = np.allclose(result.scores, truth.scores, rtol=1e-5, atol=1e-4)
        return same and close, "ids equal to the in-memory Index" if same else "ids differ"

    timings, load = measure(contenders, threads=threads, repeat=repeat, check=check,
                            retries=_retries(args))
    ours = timings["dotwise sharded"]
    shape = f"{sub:,}×{d} float32, {nq} queries, k={K}"
    case = f"(c) sharded search, {sub:,}-row subset, {workers} worker(s)"
    mode = f"zarr on disk, {len(Xd.chunks[0])} chunks, {where}"
    rows.append(_row(case + " vs in-memory Index", "dotwise Index (in memory, dot)",
                     "vectors in RAM", ours, timings["dotwise Index"], load,
                     ours.valid and timings["dotwise Index"].valid, ours.note, shape=shape,
                     dotwise_mode=mode, workers=workers))
    if faiss is not None:
        ft = timings["faiss IndexFlatIP"]
        rows.append(_row(case + " vs FAISS", "faiss IndexFlatIP", f"omp_set_num_threads({threads})",
                         ours, ft, load, ours.valid and ft.valid, ft.note, shape=shape,
                         dotwise_mode=mode, workers=workers))
    else:
        rows.append({"case": case + " vs FAISS", "peer": "faiss", "mode": "not installed",
                     "ratio": None, "valid": True, "note": "faiss not installed", **load})
    # free the in-memory copies before the whole collection runs
    contenders.clear()
    Xs = index = flat = None

    # -- the whole collection on the cluster (no peer: nothing is gathered)
    Xf = da.from_zarr(str(path), chunks=(chunk, d))
    ref_ids, ref_scores = _reference(z, Q, n, max(sub, chunk))

    def check_full(name, result):
        same = np.array_equal(result.ids, ref_ids)
        return same and np.allclose(result.scores, ref_scores, rtol=1e-5, atol=1e-4), \
            "ids equal to merged in-memory searches" if same else "ids differ"

    timings, load = measure({"dotwise sharded": lambda: sharded(Xf, Q, k=K, metric="dot",
                                                                client=client)},
                            threads=threads, repeat=repeat, check=check_full,
                            retries=_retries(args))
    full = timings["dotwise sharded"]
    rows.append(_row(f"(c) sharded search, all {n:,} rows, {workers} worker(s)",
                     "none (time only)", f"zarr on disk, {len(Xf.chunks[0])} chunks, {where}",
                     full, None, load, full.valid, full.note,
                     shape=f"{n:,}×{d} float32, {nq} queries, k={K}", workers=workers,
                     rows_per_s=n / full.median, gigabytes=n * d * 4 / 1e9))
    return rows


# ------------------------------------------------------------------ (d) ALS
def _ml100k(args) -> Path | None:
    given = getattr(args, "ml100k", None)
    base = Path(given) if given else Path(os.environ.get(
        "DOTWISE_SHARED_DATA", REPO.parent / "shared" / "data")) / "movielens-100k"
    for candidate in (base, Path("/work/shared/data/movielens-100k")):
        if (candidate / "u1.base").exists():
            return candidate
    return None


def section_als(args, client, workers: int) -> list[dict[str, Any]]:
    """(d) ALS on ``client`` vs in memory, MovieLens 100k."""
    from dotwise.recommend import MatrixFactorization, load_ratings, rmse_mae

    threads = int(os.environ.get("OMP_NUM_THREADS", "1"))
    repeat = getattr(args, "repeat", None) or (2 if getattr(args, "quick", False) else 5)
    epochs = _opt(args, "als_epochs", 6, 1)
    case = f"(d) ALS on MovieLens 100k, {workers} worker(s)"
    folder = _ml100k(args)
    if folder is None:
        return [{"case": case, "peer": "dotwise ALS in memory", "mode": "—", "ratio": None,
                 "valid": False, "note": "skipped: MovieLens 100k not found (pass --ml100k)"}]
    train, test = load_ratings(folder / "u1.base"), load_ratings(folder / "u1.test")
    params = dict(n_epochs=epochs, neighbors=0, random_state=0)
    fits: dict[str, Any] = {}

    def fit(name, **kw):
        def run():
            fits[name] = MatrixFactorization(**params).fit(train, **kw)
            return fits[name]
        return run

    def rmse(model):
        return rmse_mae(test.ratings, model.predict(test.user_ids[test.user_codes],
                                                    test.item_ids[test.item_codes]))[0]

    def check(name, model):
        ref = MatrixFactorization(**params).fit(train)
        same = np.allclose(model.loss_history_, ref.loss_history_, rtol=1e-9)
        r, r0 = rmse(model), rmse(ref)
        return same and abs(r - r0) <= 1e-9 * r0, f"test RMSE {r:.6f} (in memory {r0:.6f})"

    timings, load = measure({"dotwise ALS on the cluster": fit("cluster", client=client),
                             "dotwise ALS in memory": fit("memory")},
                            threads=threads, repeat=repeat, check=check,
                            retries=_retries(args))
    ours, theirs = timings["dotwise ALS on the cluster"], timings["dotwise ALS in memory"]
    return [_row(case, "dotwise ALS in memory", "one process, BLAS pinned to one thread", ours,
                 theirs, load, ours.valid and theirs.valid, ours.note,
                 shape=f"{len(train):,} ratings, k=32, {epochs} epochs", workers=workers,
                 dotwise_mode=f"{workers} worker(s) × {_threads_per_worker(client)} thread(s)",
                 seconds_per_epoch=ours.median / epochs,
                 seconds_per_epoch_in_memory=theirs.median / epochs)]


SECTIONS = [section_search, section_als]


# ------------------------------------------------------------------ running alone
def _threads_per_worker(client) -> int:
    info = client.scheduler_info()["workers"]
    return int(next(iter(info.values()))["nthreads"]) if info else 0


@contextlib.contextmanager
def local_client(workers: int, threads: int, processes: bool = True):
    """A LocalCluster of ``workers`` workers on 127.0.0.1 sharing ``threads`` threads."""
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=workers, threads_per_worker=max(1, threads // workers),
                      processes=processes, protocol="tcp", host="127.0.0.1",
                      dashboard_address=None) as cluster, Client(cluster) as client:
        yield client


def run(args, threads: int) -> list[dict[str, Any]]:
    for mod in ("dask", "distributed", "zarr"):
        if optional(mod) is None:
            return [{"case": "(c)/(d) scale-out", "peer": "—", "mode": "not installed",
                     "ratio": None, "valid": False,
                     "note": f"{mod} not installed: pip install 'dotwise[scale]'"}]
    rows: list[dict[str, Any]] = []
    for workers in (1, 2):
        if workers > threads:
            continue  # two workers on one thread would use two cores
        # --quick: in-process workers, which start in a fraction of a second
        with local_client(workers, threads, processes=not args.quick) as client:
            for section in SECTIONS:
                t0 = time.perf_counter()
                rows += section(args, client, workers)
                print(f"[scale-search] {section.__name__}, {workers} worker(s), {threads} "
                      f"thread(s): {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    return rows


if __name__ == "__main__":
    protocol_main(__file__, "scale_search", __doc__.splitlines()[0], run, add_args=add_args)
