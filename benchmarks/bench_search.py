"""Similarity search under the fair protocol: dotwise vs FAISS (exact and IVF) and hnswlib.

Exact search (sizes fixed by issue 11): 200 000 × 384 and 1 000 000 × 128 random unit
float32 vectors (Gaussian, normalised), k = 10. dotwise ``Index(metric="dot")`` against
FAISS ``IndexFlatIP`` and ``Index(metric="l2")`` against ``IndexFlatL2``, on a batch of
1 000 queries and on 20 single queries (inner product). A row is valid when dotwise's ids
agree with FAISS's (recall@10 of one against the other ≥ 0.999: they differ only on ties
and float32 rounding).

IVF (smaller sizes so that the sweep fits): dotwise ``IVFIndex`` and FAISS
``IndexIVFFlat`` share the *same lists* — FAISS's quantizer holds dotwise's k-means
centroids — and are timed at n_probe 1, 4, 16 and 64 on three kinds of data that cluster
less and less: sentence embeddings (all-MiniLM-L6-v2 over the STS-benchmark sentences
in ``../shared/data/text``; skipped, with the reason in the row, when absent), a mildly
clustered set, and plain Gaussian vectors. A row is valid when both reach the same
recall@10 (within 0.01) against exact search. hnswlib (M 16, ef_construction 64) adds
recall/throughput points at several ``ef``; its rows have no ratio. The parent draws
recall@10 against queries/s for the three as ``results/search_ivf.png``.

Every ratio is peer median / dotwise median (> 1: dotwise faster), at 1 and at 2
threads, each in a fresh process pinned before imports (FAISS through
``faiss.omp_set_num_threads``).

Usage::

    python benchmarks/bench_search.py            # full run, about 5 minutes on 2 quiet cores
    python benchmarks/bench_search.py --quick    # seconds, 1 thread; results/search.quick.json

The sentence embeddings are computed once (about a minute) and cached under the system's
temporary directory (``dotwise-bench-cache``).
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness as h

K = 10
SEED = 20241111
REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("DOTWISE_SHARED_DATA", REPO.parent / "shared" / "data"))
RECALL_GAP = 0.01


# ------------------------------------------------------------------------------ data
def unit_gaussian(n: int, d: int, seed: int) -> np.ndarray:
    """``n`` random unit vectors in ``d`` dimensions (float32), generated in chunks."""
    rng = np.random.default_rng(seed)
    X = np.empty((n, d), dtype=np.float32)
    for s in range(0, n, 100_000):
        e = min(s + 100_000, n)
        X[s:e] = rng.standard_normal((e - s, d), dtype=np.float32)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    return X


def mildly_clustered(n: int, n_queries: int, d: int, seed: int, centers: int = 64
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors around ``centers`` directions, the noise as large as the signal.

    Returns the collection and ``n_queries`` more points drawn the same way.
    """
    rng = np.random.default_rng(seed)
    C = rng.standard_normal((centers, d), dtype=np.float32)
    X = C[rng.integers(0, centers, n + n_queries)]
    X += rng.standard_normal(X.shape, dtype=np.float32)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    return X[:n], X[n:].copy()


def sts_sentences() -> list[str] | str:
    """The distinct sentences of the STS benchmark, or why they are not available."""
    folder = SHARED_DATA / "text" / "stsbenchmark"
    files = sorted(folder.glob("sts-*.csv"))
    if not files:
        return (f"no STS-benchmark files in {folder.resolve()} (set DOTWISE_SHARED_DATA to "
                f"the shared data folder)")
    seen: dict[str, None] = {}
    for path in files:
        with open(path, encoding="utf-8") as fh:
            for row in csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
                for text in row[5:7]:
                    seen.setdefault(text.strip(), None)
    return [t for t in seen if t]


def sentence_embeddings(limit: int) -> np.ndarray | str:
    """MiniLM embeddings of up to ``limit`` STS sentences (cached), or a reason to skip."""
    try:
        from dotwise.text import embed_texts
        from dotwise.text.minilm import model_path

        model_path()
    except Exception as exc:  # the extra 'text' (its weights package) is not installed
        return f"MiniLM unavailable: {str(exc).splitlines()[0][:120]}"
    texts = sts_sentences()
    if isinstance(texts, str):
        return texts
    texts = texts[:limit]
    key = hashlib.sha256("\n".join(texts).encode()).hexdigest()[:16]
    cache = Path(tempfile.gettempdir()) / "dotwise-bench-cache" / f"minilm-sts-{key}.npy"
    if cache.exists():
        E = np.load(cache, allow_pickle=False)
        if E.shape == (len(texts), 384):
            return E
    t0 = time.perf_counter()
    E = embed_texts(texts).astype(np.float32)
    print(f"  embedded {len(texts)} sentences in {time.perf_counter() - t0:.0f} s "
          f"(cached at {cache})", flush=True)
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(f".{os.getpid()}.tmp.npy")
    np.save(tmp, E, allow_pickle=False)
    os.replace(tmp, cache)
    return E


def _recall(found, truth) -> float:
    from dotwise.search import recall_at_k

    return float(recall_at_k(np.asarray(found, dtype=np.int64), np.asarray(truth)))


# ------------------------------------------------------------------------------ exact
def exact_rows(n: int, d: int, n_queries: int, n_single: int, threads: int,
               repeat: int) -> list[dict]:
    import faiss

    from dotwise.search import Index

    X = unit_gaussian(n, d, SEED + n + d)
    Q = unit_gaussian(n_queries, d, SEED + 1)
    shape = f"{n}×{d}"
    rows = []
    for metric, peer_cls in (("dot", faiss.IndexFlatIP), ("l2", faiss.IndexFlatL2)):
        ours = Index(d, metric=metric)
        ours.add(X)
        peer = peer_cls(d)
        peer.add(X)
        peer_name = f"FAISS {peer_cls.__name__}"
        kinds = [("batch", n_queries, lambda ours=ours: ours.search(Q, k=K),
                  lambda peer=peer: peer.search(Q, K))]
        if metric == "dot":
            singles = [Q[i] for i in range(n_single)]
            kinds.append(("single", n_single,
                          lambda ours=ours, qs=singles: [ours.search(q, k=K) for q in qs],
                          lambda peer=peer, qs=singles: [peer.search(q[None, :], K)
                                                         for q in qs]))
        for kind, nq, run_ours, run_peer in kinds:
            got: dict[str, np.ndarray] = {}

            def check(who, result, got=got, kind=kind):
                if kind == "batch":
                    ids = result.ids if who == h.DOTWISE else result[1]
                else:
                    ids = np.array([r.ids if who == h.DOTWISE else r[1][0] for r in result])
                got[who] = np.asarray(ids, dtype=np.int64)
                return True, ""

            timings, load = h.measure({h.DOTWISE: run_ours, peer_name: run_peer},
                                      threads=threads, repeat=repeat, check=check)
            agree = _recall(got[h.DOTWISE], got[peer_name])
            ours_t, peer_t = timings[h.DOTWISE], timings[peer_name]
            label = (f"batch of {nq}" if kind == "batch" else f"{nq} single queries")
            row = {"case": f"exact {metric} {shape}, {label}, k={K}", "peer": peer_name,
                   "mode": f"omp_set_num_threads({threads})", "group": "exact",
                   "metric": metric, "shape": shape, "queries": nq,
                   "dotwise": ours_t.as_dict(), "faiss": peer_t.as_dict(),
                   "queries_per_s_dotwise": nq / ours_t.median,
                   "queries_per_s_faiss": nq / peer_t.median,
                   "ratio": h.ratio(peer_t, ours_t), "ids_agree": agree,
                   "valid": agree >= 0.999, **load}
            rows.append(row)
            print(f"  [{threads} thr] {row['case']}: dotwise {h.fmt_time(ours_t.median)} "
                  f"FAISS {h.fmt_time(peer_t.median)} ratio {h.fmt_ratio(row['ratio'])} "
                  f"(ids agree {agree:.4f})", flush=True)
        ours = peer = None
    return rows


# ------------------------------------------------------------------------------ IVF
def ivf_rows(name: str, X: np.ndarray, Q: np.ndarray, n_lists: int, probes: list[int],
             efs: list[int], threads: int, repeat: int) -> list[dict]:
    import faiss

    from dotwise.search import IVFIndex, exact_search

    n, d = X.shape
    rows: list[dict] = []
    truth = exact_search(X, Q, K, "dot").ids
    t0 = time.perf_counter()
    ivf = IVFIndex(d, metric="dot", n_lists=n_lists, random_state=0)
    ivf.train(X)
    ivf.add(X)
    build = time.perf_counter() - t0
    quant = faiss.IndexFlatIP(d)
    quant.add(ivf.centroids_)
    fivf = faiss.IndexIVFFlat(quant, d, n_lists, faiss.METRIC_INNER_PRODUCT)
    fivf.is_trained = True  # the quantizer already holds dotwise's centroids: same lists
    fivf.add(X)
    same_lists = bool(np.array_equal(
        ivf.list_sizes, [fivf.invlists.list_size(j) for j in range(n_lists)]))
    base = {"group": "ivf", "data": name, "shape": f"{n}×{d}", "n_lists": n_lists,
            "queries": Q.shape[0]}
    for p in [p for p in probes if p <= n_lists]:
        recalls: dict[str, float] = {}

        def run_faiss(p=p):
            fivf.nprobe = p
            return fivf.search(Q, K)[1]

        def check(who, result, recalls=recalls):
            ids = result.ids if who == h.DOTWISE else result
            recalls[who] = _recall(ids, truth)
            return True, f"recall@10 {recalls[who]:.4f}"

        timings, load = h.measure(
            {h.DOTWISE: lambda p=p: ivf.search(Q, k=K, n_probe=p),
             "FAISS IndexIVFFlat": run_faiss}, threads=threads, repeat=repeat, check=check)
        ours_t, peer_t = timings[h.DOTWISE], timings["FAISS IndexIVFFlat"]
        gap = abs(recalls[h.DOTWISE] - recalls["FAISS IndexIVFFlat"])
        row = {**base, "case": f"IVF {name} {n}×{d}, {n_lists} lists, n_probe {p}",
               "peer": "FAISS IndexIVFFlat",
               "mode": f"same lists, nprobe {p}, omp_set_num_threads({threads})",
               "n_probe": p, "dotwise": ours_t.as_dict(), "faiss": peer_t.as_dict(),
               "ratio": h.ratio(peer_t, ours_t),
               "recall_dotwise": recalls[h.DOTWISE],
               "recall_faiss": recalls["FAISS IndexIVFFlat"],
               "queries_per_s_dotwise": Q.shape[0] / ours_t.median,
               "queries_per_s_faiss": Q.shape[0] / peer_t.median,
               "same_lists": same_lists, "build_s_dotwise": build,
               "valid": bool(same_lists and gap <= RECALL_GAP), **load}
        rows.append(row)
        print(f"  [{threads} thr] {row['case']}: dotwise {h.fmt_time(ours_t.median)} "
              f"(recall {row['recall_dotwise']:.3f}) FAISS {h.fmt_time(peer_t.median)} "
              f"(recall {row['recall_faiss']:.3f}) ratio {h.fmt_ratio(row['ratio'])}",
              flush=True)
    ivf = fivf = quant = None
    rows += hnsw_rows(name, X, Q, truth, efs, threads, repeat, base)
    return rows


def hnsw_rows(name, X, Q, truth, efs, threads, repeat, base) -> list[dict]:
    hnswlib = h.optional("hnswlib")
    if hnswlib is None:
        return [{**base, "case": f"HNSW {name}", "peer": "hnswlib", "ratio": None,
                 "valid": False, "mode": "not installed (python -m pip install hnswlib)"}]
    n, d = X.shape
    t0 = time.perf_counter()
    index = hnswlib.Index(space="ip", dim=d)
    index.init_index(max_elements=n, ef_construction=64, M=16, random_seed=0)
    index.set_num_threads(threads)
    index.add_items(X, np.arange(n))
    build = time.perf_counter() - t0
    rows = []
    for ef in efs:
        index.set_ef(max(ef, K))
        found: dict[str, float] = {}

        def check(who, result, found=found):
            found["recall"] = _recall(result[0], truth)
            return True, ""

        timings, load = h.measure({"hnswlib": lambda: index.knn_query(Q, k=K)},
                                  threads=threads, repeat=repeat, check=check)
        t = timings["hnswlib"]
        rows.append({**base, "case": f"HNSW {name} {n}×{d}, ef {ef}", "peer": "hnswlib",
                     "mode": f"M 16, ef_construction 64, ef {ef}, {threads} threads "
                             f"(a curve point: no ratio)", "ef": ef, "ratio": None,
                     "valid": True, "hnswlib": t.as_dict(), "recall_hnswlib": found["recall"],
                     "queries_per_s_hnswlib": Q.shape[0] / t.median, "build_s": build, **load})
    print(f"  [{threads} thr] HNSW {name}: recall "
          + ", ".join(f"{r['recall_hnswlib']:.3f} at {r['queries_per_s_hnswlib']:,.0f} q/s"
                      for r in rows), flush=True)
    return rows


# ------------------------------------------------------------------------------ driver
def run(args, threads: int) -> list[dict]:
    if h.optional("faiss") is None:
        return [{"case": "all", "peer": "FAISS", "mode": "not installed", "ratio": None,
                 "valid": False}]
    repeat = args.repeat or (3 if args.quick else 5)
    rows: list[dict] = []
    if args.quick:
        exact = [(20_000, 64, 200, 5)]
        n_ivf, n_q, n_lists, n_text = 8_000, 100, 32, 300
        efs = [16, 64]
    else:
        exact = [(200_000, 384, 1000, 20), (1_000_000, 128, 1000, 20)]
        n_ivf, n_q, n_lists, n_text = 100_000, 500, 256, 5_000
        efs = [10, 20, 40, 80, 160]
    for n, d, nq, ns in exact:
        # the large batches take seconds per run: 3 interleaved runs each keep the whole
        # benchmark near 5 minutes (singles and the IVF sweep use ``repeat``)
        rows += exact_rows(n, d, nq, ns, threads, repeat if args.quick else min(repeat, 3))
    probes = [1, 4, 16, 64]
    E = sentence_embeddings(n_text)
    if isinstance(E, str):
        rows.append({"case": "IVF MiniLM sentences", "peer": "FAISS IndexIVFFlat",
                     "mode": f"skipped: {E}", "ratio": None, "valid": False,
                     "group": "ivf", "data": "MiniLM sentences"})
    else:
        n_q_text = min(n_q, max(E.shape[0] // 10, 1))
        rows += ivf_rows("MiniLM sentences", E[n_q_text:], E[:n_q_text],
                         max(4, int(np.sqrt(E.shape[0]))), probes, efs, threads, repeat)
    rows += ivf_rows("mildly clustered", *mildly_clustered(n_ivf, n_q, 128, SEED + 2),
                     n_lists, probes, efs, threads, repeat)
    rows += ivf_rows("Gaussian", unit_gaussian(n_ivf, 128, SEED + 3),
                     unit_gaussian(n_q, 128, SEED + 4), n_lists, probes, efs, threads, repeat)
    return rows


def plot(payload: dict, path: Path) -> Path | None:
    """recall@10 against queries/s, one panel per data set, a line per method and thread count."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    datasets: list[str] = []
    for run_ in payload["runs"]:
        for r in run_["rows"]:
            if ("n_probe" in r or "ef" in r) and r.get("data") not in datasets:
                datasets.append(r["data"])
    if not datasets:
        return None
    fig, axes = plt.subplots(1, len(datasets), figsize=(5.2 * len(datasets), 4.2), squeeze=False)
    styles = {"dotwise IVF": ("C0", "o"), "FAISS IVF": ("C1", "s"), "hnswlib HNSW": ("C2", "^")}
    for ax, data in zip(axes[0], datasets, strict=True):
        for run_ in payload["runs"]:
            t = run_["threads"]
            rows = [r for r in run_["rows"] if r.get("data") == data and r.get("group") == "ivf"]
            ivf = sorted((r for r in rows if "n_probe" in r), key=lambda r: r["n_probe"])
            hn = sorted((r for r in rows if "ef" in r), key=lambda r: r["ef"])
            curves = {"dotwise IVF": [(r["recall_dotwise"], r["queries_per_s_dotwise"]) for r in ivf],
                      "FAISS IVF": [(r["recall_faiss"], r["queries_per_s_faiss"]) for r in ivf],
                      "hnswlib HNSW": [(r["recall_hnswlib"], r["queries_per_s_hnswlib"])
                                       for r in hn]}
            for label, pts in curves.items():
                if not pts:
                    continue
                color, marker = styles[label]
                ax.plot([p[0] for p in pts], [p[1] for p in pts], color=color, marker=marker,
                        linestyle="-" if t == max(r["threads"] for r in payload["runs"]) else "--",
                        label=f"{label}, {t} thr")
        shape = next((r.get("shape") for run_ in payload["runs"] for r in run_["rows"]
                      if r.get("data") == data and r.get("shape")), "")
        ax.set_title(f"{data} ({shape})")
        ax.set_xlabel("recall@10")
        ax.set_ylabel("queries / s")
        ax.set_yscale("log")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    m = payload.get("machine", {})
    fig.suptitle(f"IVF (same lists at n_probe 1, 4, 16, 64) and HNSW; {m.get('cpu_model', '?')}, "
                 f"{m.get('isa', '?')}", fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    os.replace(tmp, path)
    return path


def main(argv=None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--quick" in argv and not any(a.startswith("--threads") for a in argv):
        argv += ["--threads", "1"]  # a smoke run on a busy machine: one thread
    h.protocol_main(__file__, "search", __doc__.splitlines()[0], run, argv=argv)
    if os.environ.get("_DOTWISE_BENCH_CHILD"):
        return
    out = None
    for i, a in enumerate(argv):
        if a == "--out" and i + 1 < len(argv):
            out = Path(argv[i + 1])
        elif a.startswith("--out="):
            out = Path(a.split("=", 1)[1])
    quick = "--quick" in argv
    results = h.results_path("search", out, quick)
    payload = json.loads(results.read_text(encoding="utf-8"))
    png = results.with_name(results.name.replace(".json", "") + "_ivf.png") if out else \
        h.RESULTS / ("search_ivf.quick.png" if quick else "search_ivf.png")
    drawn = plot(payload, png)
    if drawn is not None:
        print(f"plot: {drawn}")


if __name__ == "__main__":
    main()
