"""Similarity search: dotwise vs FAISS, hnswlib and scikit-learn, in one process.

Data: clustered unit vectors (a Gaussian mixture, then normalised — embeddings
cluster, and IVF relies on it), float32, fixed seed:
200 000 × 384 and 1 000 000 × 128; 1 000 queries from the same mixture; k = 10.

Rows:
* exact batch search (1 000 queries) and single-query latency:
  dotwise ``Index`` (cosine), FAISS ``IndexFlatIP``, scikit-learn
  ``NearestNeighbors(algorithm="brute", metric="cosine")``; every answer is
  checked against dotwise's exact ids (recall@10 must be ≥ 0.999);
* approximate: dotwise ``IVFIndex`` vs FAISS ``IndexIVFFlat`` at the same
  n_lists / n_probe (both trained on the same 50 000-vector sample), and
  hnswlib HNSW — built on the first 50 000 vectors only (M 16,
  ef_construction 64): a full HNSW build of 1M vectors takes longer than this
  whole benchmark on two cores, so its speed is not comparable, its recall is
  (measured against exact search over the same 50 000);
* ``Index.load(mmap=True)`` of the saved 1M index (page cache warm);
* the Python heap peak of one dotwise batch search (tracemalloc), against the
  size of the full queries × collection score matrix it avoids.

Run: ``flock /tmp/dotwise-bench.lock python benchmarks/bench_search.py``
(``--quick`` for a smoke run).
"""

from __future__ import annotations

import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import (
    compare,
    fmt_ratio,
    fmt_time,
    machine_info,
    markdown_table,
    optional,
    parser,
    pin_threads,
    ratio,
    write_results,
)

K = 10


def make_data(n: int, d: int, n_queries: int, seed: int = 0, centers: int = 2000,
              spread: float = 0.6):
    """Unit vectors from a Gaussian mixture (float32), built in chunks to save memory."""
    rng = np.random.default_rng(seed)
    C = rng.standard_normal((centers, d), dtype=np.float32)
    X = np.empty((n, d), dtype=np.float32)
    for s in range(0, n, 100_000):
        e = min(s + 100_000, n)
        lab = rng.integers(0, centers, e - s)
        X[s:e] = C[lab] + spread * rng.standard_normal((e - s, d), dtype=np.float32)
    lab = rng.integers(0, centers, n_queries)
    Q = C[lab] + spread * rng.standard_normal((n_queries, d), dtype=np.float32)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    Q /= np.linalg.norm(Q, axis=1, keepdims=True)
    return X, Q.astype(np.float32)


def _recall(found, truth) -> float:
    from dotwise.search import recall_at_k

    return recall_at_k(np.asarray(found, dtype=np.int64), truth)


def bench_dataset(label: str, n: int, d: int, nq: int, *, repeat: int, quick: bool,
                  n_lists: int, probes: list[int], hnsw_n: int, rows: list, raw: list) -> dict:
    from dotwise.search import Index, IVFIndex

    faiss = optional("faiss")
    hnswlib = optional("hnswlib")
    sk = optional("sklearn.neighbors")
    X, Q = make_data(n, d, nq, seed=n + d)
    shape = f"{n:,} × {d}"
    info: dict = {"data": shape}

    t0 = time.perf_counter()
    index = Index(d, metric="cosine")
    index.add(X)
    build = {"dotwise Index": time.perf_counter() - t0}
    truth = index.search(Q, k=K)
    singles = [Q[i] for i in range(20)]

    batch = {"dotwise Index": lambda: index.search(Q, k=K)}
    single = {"dotwise Index": lambda: [index.search(q, k=K) for q in singles]}
    missing = []
    if faiss is not None:
        t0 = time.perf_counter()
        flat = faiss.IndexFlatIP(d)
        flat.add(X)
        build["faiss IndexFlatIP"] = time.perf_counter() - t0
        batch["faiss IndexFlatIP"] = lambda: flat.search(Q, K)[1]
        single["faiss IndexFlatIP"] = lambda: [flat.search(q[None, :], K) for q in singles]
    else:
        missing.append("faiss")
    if sk is not None:
        t0 = time.perf_counter()
        nn = sk.NearestNeighbors(n_neighbors=K, algorithm="brute", metric="cosine").fit(X)
        build["sklearn brute"] = time.perf_counter() - t0
        batch["sklearn brute"] = lambda: nn.kneighbors(Q, return_distance=False)
        single["sklearn brute"] = lambda: [nn.kneighbors(q[None, :], return_distance=False)
                                           for q in singles]

    def check(name, result):
        ids = result.ids if hasattr(result, "ids") else result
        r = _recall(ids, truth)
        return r >= 0.999, f"recall@10 vs exact = {r:.4f}"

    def check_single(name, result):
        ids = [x.ids if hasattr(x, "ids") else (x[1][0] if isinstance(x, tuple) else x[0])
               for x in result]
        r = _recall(np.array(ids), truth.ids[:20])
        return r >= 0.999, f"recall@10 vs exact = {r:.4f}"

    tb = compare(batch, repeat=repeat, check=check)
    ts = compare(single, repeat=repeat, check=check_single)
    ours_b, ours_s = tb["dotwise Index"], ts["dotwise Index"]
    for name in batch:
        b, s = tb[name], ts[name]
        rows.append([shape, name, "exact", fmt_time(b.median), f"{nq / b.median:,.0f}",
                     fmt_ratio(ratio(b, ours_b)) if name != "dotwise Index" else "1.00×",
                     fmt_time(s.median / len(singles)),
                     fmt_ratio(ratio(s, ours_s)) if name != "dotwise Index" else "1.00×",
                     b.note.split("= ")[-1] if b.valid else f"INVALID ({b.note})",
                     fmt_time(build.get(name))])
        raw.append({"data": shape, "method": name, "batch": b.as_dict(),
                    "single_20_queries": s.as_dict(), "build_s": build.get(name)})
    for m in missing:
        rows.append([shape, m, "—", "not installed", "", "", "", "", "", ""])
    info["exact_batch_ratio_faiss"] = ratio(tb.get("faiss IndexFlatIP"), ours_b)
    info["exact_batch_ratio_sklearn"] = ratio(tb.get("sklearn brute"), ours_b)
    info["exact_single_ratio_faiss"] = ratio(ts.get("faiss IndexFlatIP"), ours_s)
    nn = None
    batch.clear()
    single.clear()

    # ---------------- memory of one batch search (NumPy allocations, tracemalloc)
    tracemalloc.start()
    index.search(Q, k=K)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    info["search_peak_mib"] = peak / 2**20
    info["full_score_matrix_mib"] = nq * n * 4 / 2**20

    # ---------------- approximate: IVF (same lists, same probes) and HNSW
    rng = np.random.default_rng(1)
    sample = X[np.sort(rng.choice(n, min(n, 50_000), replace=False))]
    t0 = time.perf_counter()
    ivf = IVFIndex(d, metric="cosine", n_lists=n_lists, n_probe=probes[0])
    ivf.train(sample)
    ivf.add(X)
    build["dotwise IVFIndex"] = time.perf_counter() - t0
    approx = {}
    if faiss is not None:
        t0 = time.perf_counter()
        quant = faiss.IndexFlatIP(d)
        fivf = faiss.IndexIVFFlat(quant, d, n_lists, faiss.METRIC_INNER_PRODUCT)
        fivf.train(sample)
        fivf.add(X)
        build["faiss IndexIVFFlat"] = time.perf_counter() - t0
    del sample
    for p in probes:
        contenders = {"dotwise IVFIndex": (lambda p=p: ivf.search(Q, k=K, n_probe=p))}
        if faiss is not None:
            def run_faiss(p=p):
                fivf.nprobe = p
                return fivf.search(Q, K)[1]
            contenders["faiss IndexIVFFlat"] = run_faiss
        recalls: dict[str, float] = {}

        def check_ivf(name, result, recalls=recalls):
            ids = result.ids if hasattr(result, "ids") else result
            recalls[name] = _recall(ids, truth)
            return True, f"recall@10 = {recalls[name]:.4f}"

        ta = compare(contenders, repeat=repeat, check=check_ivf)
        for name, t in ta.items():
            approx[(name, p)] = (t, recalls[name])
            rows.append([shape, name, f"IVF {n_lists} lists, n_probe {p}", fmt_time(t.median),
                         f"{nq / t.median:,.0f}",
                         f"{ours_b.median / t.median:.1f}× faster than exact"
                         if name.startswith("dotwise") else
                         fmt_ratio(ratio(t, ta["dotwise IVFIndex"])), "", "",
                         f"{recalls[name]:.3f}", fmt_time(build.get(name))])
            raw.append({"data": shape, "method": name, "n_lists": n_lists, "n_probe": p,
                        "batch": t.as_dict(), "recall_at_10": recalls[name],
                        "build_s": build.get(name)})
    good = [(p, approx[("dotwise IVFIndex", p)]) for p in probes
            if approx[("dotwise IVFIndex", p)][1] >= 0.95]
    if good:
        p, (t, r) = good[0]
        info["ivf_at_recall_095"] = {"n_probe": p, "recall": r,
                                     "speedup_vs_exact": ours_b.median / t.median}
    ivf = fivf = flat = None  # free the copies before the next builds

    if hnswlib is not None:
        m = min(n, hnsw_n)
        t0 = time.perf_counter()
        h = hnswlib.Index(space="ip", dim=d)
        h.init_index(max_elements=m, ef_construction=64, M=16, random_seed=0)
        h.set_num_threads(2)
        h.add_items(X[:m], np.arange(m))
        hb = time.perf_counter() - t0
        h.set_ef(64)
        sub_truth = Index(d, metric="cosine")
        sub_truth.add(X[:m])
        st = sub_truth.search(Q, k=K)
        del sub_truth
        th = compare({"hnswlib HNSW": lambda: h.knn_query(Q, k=K)[0]}, repeat=repeat)
        hr = _recall(h.knn_query(Q, k=K)[0].astype(np.int64), st)
        t = th["hnswlib HNSW"]
        sub = "" if m == n else f" (built on the first {m:,} vectors)"
        rows.append([shape, "hnswlib HNSW" + sub, "M 16, ef_construction 64, ef 64",
                     fmt_time(t.median), f"{nq / t.median:,.0f}", "", "", "", f"{hr:.3f}",
                     fmt_time(hb)])
        raw.append({"data": shape, "method": "hnswlib HNSW", "n_indexed": m,
                    "batch": t.as_dict(), "recall_at_10": hr, "build_s": hb})
        del h
    else:
        rows.append([shape, "hnswlib", "—", "not installed", "", "", "", "", "", ""])

    # ---------------- save + memory-mapped load
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        index.save(Path(tmp) / "idx")
        info["save_s"] = time.perf_counter() - t0
        loads = []
        for _ in range(max(repeat, 5)):
            t0 = time.perf_counter()
            loaded = Index.load(Path(tmp) / "idx", mmap=True)
            loads.append(time.perf_counter() - t0)
            del loaded
        info["mmap_load_s"] = float(np.median(loads))
        t0 = time.perf_counter()
        loaded = Index.load(Path(tmp) / "idx", mmap=True)
        r = loaded.search(Q, k=K)
        info["mmap_first_batch_s"] = time.perf_counter() - t0
        info["mmap_same_answer"] = bool(np.array_equal(r.ids, truth.ids))
        del loaded
    return info


def main() -> None:
    args = parser(__doc__.splitlines()[0]).parse_args()
    pinned = pin_threads(args.threads)
    repeat = args.repeat or (3 if args.quick else 5)
    if args.quick:
        sets = [("quick", 20_000, 32, 100, 64, [4, 16], 5_000)]
    else:
        sets = [("200k", 200_000, 384, 1000, 512, [4, 8, 16], 50_000),
                ("1M", 1_000_000, 128, 1000, 1024, [4, 8, 16], 50_000)]
    rows: list = []
    raw: list = []
    infos = {}
    for key, n, d, nq, n_lists, probes, hnsw_n in sets:
        t0 = time.perf_counter()
        infos[key] = bench_dataset(key, n, d, nq, repeat=repeat, quick=args.quick,
                                   n_lists=n_lists, probes=probes, hnsw_n=hnsw_n, rows=rows,
                                   raw=raw)
        infos[key]["wall_s"] = time.perf_counter() - t0
        print(f"[{key}] done in {infos[key]['wall_s']:.0f} s", file=sys.stderr)
    nq = sets[0][3]
    cols = ["data", "method", "mode", f"batch of {nq:,} queries: median", "queries/s",
            "ratio (peer / dotwise)", "single query: median", "single ratio", "recall@10",
            "build"]
    table = markdown_table(cols, rows)
    extra = []
    for info in infos.values():
        extra.append([info["data"], f"{info['mmap_load_s'] * 1e3:.1f} ms",
                      f"{info['mmap_first_batch_s']:.2f} s",
                      f"{info['search_peak_mib']:.0f} MiB",
                      f"{info['full_score_matrix_mib']:,.0f} MiB",
                      _ivf_text(info.get("ivf_at_recall_095"))])
    table2 = markdown_table(["data", "Index.load(mmap=True)", "load + first batch",
                             "search peak (tracemalloc)", "full score matrix avoided",
                             "IVF at recall ≥ 0.95"], extra)
    print(table)
    print()
    print(table2)
    payload = {"machine": machine_info(args.threads, pinned), "k": K, "repeat": repeat,
               "rows": raw, "summary": infos, "table": table, "table_extra": table2}
    path = write_results("search", payload, args.out, quick=args.quick)
    print(f"\nresults: {path}", file=sys.stderr)


def _ivf_text(x) -> str:
    if not x:
        return "not reached at the probes tried"
    return (f"n_probe {x['n_probe']}: recall {x['recall']:.3f}, "
            f"{x['speedup_vs_exact']:.1f}× exact throughput")


if __name__ == "__main__":
    main()
