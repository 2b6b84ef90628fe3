"""Search indexes under stress: failed calls, killed saves, racing readers, damaged files,
threads, reserved ids, extreme values, huge k — nothing lost, nothing silently wrong.

Oracles: the state before a failing call (it must be unchanged), brute force with NumPy
(``exact_search`` on the clean subset), and the saved index itself.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dotwise._validation import DataFormatError
from dotwise.search import Index, IVFIndex, exact_search, load
from dotwise.search import storage as storage_mod
from dotwise.search.results import UnknownIdError

SRC = str(Path(__file__).resolve().parents[1] / "src")


def _rng(seed=0):
    return np.random.default_rng(seed)


def _flat(metric="l2", n=100, d=8, seed=0):
    X = _rng(seed).standard_normal((n, d)).astype(np.float32)
    index = Index(d, metric=metric)
    index.add(X, ids=np.arange(n) * 3)
    return index, X


def _ivf(metric="l2", n=100, d=8, seed=0):
    X = _rng(seed).standard_normal((n, d)).astype(np.float32)
    index = IVFIndex(d, metric=metric, n_lists=4, n_probe=4)
    index.train(X)
    index.add(X, ids=np.arange(n) * 3)
    return index, X


def _snapshot(index):
    out = {"n": len(index), "ids": np.array(index.ids), "vectors": np.array(index.vectors)}
    if isinstance(index, IVFIndex):
        out["lists"] = np.array(index.list_sizes)
        out["centroids"] = np.array(index.centroids_) if index.is_trained else None
    return out


def _same(a, b):
    assert a.keys() == b.keys()
    for key in a:
        if a[key] is None or b[key] is None:
            assert a[key] is b[key], key
        else:
            np.testing.assert_array_equal(a[key], b[key], err_msg=key)


# ------------------------------------------------------------ 1. failed calls change nothing
BAD_CALLS = [
    ("add", lambda X: ((X[:2],), {"ids": [3], "upsert": True}), ValueError),   # 2 vectors, 1 id
    ("add", lambda X: ((X[:2],), {"ids": [9, 9], "upsert": True}), ValueError),  # duplicates
    ("add", lambda X: ((X[:2],), {"ids": [3, 6]}), ValueError),  # present, no upsert
    ("add", lambda X: ((X[:2, :3],), {"ids": [3, 6], "upsert": True}), ValueError),  # dim
    ("add", lambda X: ((np.r_[X[:1], [[np.nan] * 8]],), {"ids": [3, 1], "upsert": True}),
     ValueError),
    ("add", lambda X: ((X[:2],), {"ids": [3, -1], "upsert": True}), ValueError),  # reserved
    ("add", lambda X: ((X[:1],), {"ids": [2**63 - 1]}), ValueError),
    ("add", lambda X: ((X[:1] * 1e300,), {"ids": [3], "upsert": True}), ValueError),
    ("add", lambda X: ((X[:1],), {"ids": [1.5]}), TypeError),
    ("remove", lambda X: (([3, 6, 1],), {}), UnknownIdError),  # 1 is not an id
    ("remove", lambda X: ((["a"],), {}), TypeError),
]


@pytest.mark.parametrize("make", [_flat, _ivf], ids=["flat", "ivf"])
@pytest.mark.parametrize("method,args,error", BAD_CALLS,
                         ids=[f"{m}-{i}" for i, (m, _, _) in enumerate(BAD_CALLS)])
def test_a_failing_mutation_leaves_the_index_exactly_as_it_was(make, method, args, error):
    index, X = make()
    before = _snapshot(index)
    a, kw = args(X.astype(np.float64))
    with pytest.raises(error):
        getattr(index, method)(*a, **kw)
    _same(before, _snapshot(index))


@pytest.mark.parametrize("bad", ["few", "nan", "dim"])
def test_a_failing_train_leaves_the_ivf_index_as_it_was(bad):
    index, X = _ivf()
    before = _snapshot(index)
    Y = {"few": X[:2], "nan": np.r_[X, [[np.nan] * 8]], "dim": X[:, :3]}[bad]
    with pytest.raises(ValueError):
        index.train(Y)
    _same(before, _snapshot(index))


def test_ivf_upsert_moves_a_vector_and_keeps_the_rest():
    index, X = _ivf()
    index.add(X[:1] * 0 + 5.0, ids=[3], upsert=True)
    assert len(index) == 100 and 3 in index
    np.testing.assert_allclose(index.get(3), 5.0)
    truth = exact_search(np.r_[X[:1], np.full((1, 8), 5.0), X[2:]], X[:5], k=3, metric="l2")
    mapping = np.arange(100) * 3
    got = index.search(X[:5], k=3, n_probe=4)
    np.testing.assert_array_equal(got.ids, mapping[truth.ids])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=st.lists(st.tuples(st.sampled_from(["add", "upsert", "remove"]),
                              st.lists(st.integers(-2, 40), min_size=0, max_size=6),
                              st.integers(0, 7)), min_size=1, max_size=8))
def test_random_mutations_either_apply_whole_or_not_at_all(ops):
    """Against a dict model: every call applies completely or raises and changes nothing."""
    rng = _rng(1)
    for index in (Index(4, metric="dot"), IVFIndex(4, metric="dot", n_lists=2, n_probe=2)):
        if isinstance(index, IVFIndex):
            index.train(rng.standard_normal((8, 4)))
        model: dict[int, np.ndarray] = {}
        for op, ids, n_vec in ops:
            V = rng.standard_normal((n_vec, 4)).astype(np.float32)
            before = _snapshot(index)
            try:
                if op == "remove":
                    index.remove(ids)
                else:
                    index.add(V, ids=ids, upsert=op == "upsert")
            except (ValueError, KeyError, TypeError):
                _same(before, _snapshot(index))
                continue
            if op == "remove":
                for i in ids:
                    model.pop(i)
            else:
                model.update(zip(ids, V, strict=True))
            assert sorted(model) == sorted(index.ids.tolist())
            for i, v in model.items():
                np.testing.assert_array_equal(index.get(i), v)


# ------------------------------------------------------------ 2. the directory swap
def _run_child(code: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=SRC + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env,
                          capture_output=True, text=True, timeout=timeout)


def _child_save(path: Path, n: int, kill_at: str, exchange: bool) -> subprocess.CompletedProcess:
    code = f"""
    import os, signal, numpy as np
    import dotwise._dirswap as ds
    from dotwise.search import Index
    real_replace, real_exchange = ds._replace, ds._exchange
    calls = []
    def replace(a, b):
        real_replace(a, b)
        calls.append((a, b))
        if {kill_at!r} == "between-renames" and len(calls) == 1:
            os.kill(os.getpid(), signal.SIGKILL)
    def exchange(a, b):
        if not {exchange!r}:
            return False
        ok = real_exchange(a, b)
        if {kill_at!r} == "after-exchange":
            os.kill(os.getpid(), signal.SIGKILL)
        return ok
    ds._replace, ds._exchange = replace, exchange
    index = Index(4, metric="dot")
    index.add(np.ones(({n}, 4)))
    index.save({str(path)!r})
    """
    return _run_child(code)


@pytest.mark.parametrize("kill_at,exchange", [("between-renames", False),
                                              ("after-exchange", True)])
def test_a_save_killed_mid_swap_is_repaired_by_the_next_load(tmp_path, kill_at, exchange):
    path = tmp_path / "idx"
    index = Index(4, metric="dot")
    index.add(np.ones((10, 4)))
    index.save(path)
    res = _child_save(path, 20, kill_at, exchange)
    assert res.returncode == -signal.SIGKILL, res.stderr
    left = storage_mod.leftovers(path)
    assert left, "the kill should leave the swap's temporaries behind"
    if kill_at == "between-renames":
        assert not path.exists()  # the state the issue describes: no index at the path
    loaded = load(path)
    # between the renames the save had not committed: the previous index comes back;
    # after the exchange it had: the new one is in place
    assert len(loaded) == (10 if kill_at == "between-renames" else 20)
    assert storage_mod.leftovers(path) == []  # the dead writer's temporaries are gone


def test_a_failing_rename_rolls_back_in_process(tmp_path, monkeypatch):
    import dotwise._dirswap as ds

    path = tmp_path / "idx"
    index, _ = _flat()
    index.save(path)
    calls = []
    real = ds._replace

    def replace(a, b):
        calls.append(a)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        real(a, b)

    monkeypatch.setattr(ds, "_exchange", lambda a, b: False)
    monkeypatch.setattr(ds, "_replace", replace)
    bigger, _ = _flat(n=150)
    with pytest.raises(OSError, match="No space"):
        bigger.save(path)
    monkeypatch.setattr(ds, "_replace", real)
    assert len(load(path)) == 100 and storage_mod.leftovers(path) == []


def test_stale_temporaries_of_dead_writers_are_cleaned_and_live_ones_kept(tmp_path):
    path = tmp_path / "idx"
    index, _ = _flat()
    index.save(path)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    stale = tmp_path / f".idx.tmp-{dead}-0badcafe"
    live = tmp_path / f".idx.tmp-{os.getpid()}-0000beef"
    for d in (stale, live):
        d.mkdir()
        (d / "vectors.npy").write_bytes(b"x" * 1000)
    load(path)
    assert not stale.exists() and live.exists()
    index.save(path)
    assert live.exists()  # a live writer's folder is never touched


@pytest.mark.slow
def test_sigkill_at_random_moments_of_a_save_never_loses_the_index(tmp_path):
    path = tmp_path / "idx"
    first = Index(16, metric="l2")
    first.add(_rng().standard_normal((1000, 16)))
    first.save(path)
    code = f"""
    import numpy as np
    from dotwise.search import Index
    rng = np.random.default_rng(0)
    while True:
        index = Index(16, metric="l2")
        index.add(rng.standard_normal((int(rng.integers(1000, 60000)), 16)))
        index.save({str(path)!r})
    """
    env = dict(os.environ, PYTHONPATH=SRC + os.pathsep + os.environ.get("PYTHONPATH", ""))
    rng = _rng(3)
    for _ in range(5):
        proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], env=env)
        time.sleep(1.0 + float(rng.uniform(0, 1.5)))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        loaded = load(path)  # old or new, whole
        assert len(loaded) >= 1000 and loaded.search(np.zeros(16), k=1).ids[0] >= 0
    assert storage_mod.leftovers(path) == []


# ------------------------------------------------------------ 3. readers racing a writer
@pytest.mark.parametrize("exchange", [True, False], ids=["exchange", "two-renames"])
def test_readers_see_the_old_or_the_new_index_never_an_error(tmp_path, exchange):
    path = tmp_path / "idx"
    sizes = (3000, 5000)
    a = Index(8, metric="dot")
    a.add(np.ones((sizes[0], 8)))
    a.save(path)
    code = f"""
    import time, numpy as np
    import dotwise._dirswap as ds
    from dotwise.search import Index
    if not {exchange!r}:
        ds._exchange = lambda a, b: False
    indexes = []
    for n in {sizes!r}:
        index = Index(8, metric="dot")
        index.add(np.ones((n, 8)))
        indexes.append(index)
    end = time.monotonic() + 3.0
    i = 0
    while time.monotonic() < end:
        indexes[i % 2].save({str(path)!r})
        i += 1
    print(i)
    """
    env = dict(os.environ, PYTHONPATH=SRC + os.pathsep + os.environ.get("PYTHONPATH", ""))
    writer = subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    errors, seen = [], set()

    def reader(mmap):
        while writer.poll() is None:
            try:
                index = load(path, mmap=mmap)
                n = len(index)
                r = index.search(np.ones(8), k=2)
                assert n in sizes and r.ids.min() >= 0, (n, r.ids)
                seen.add(n)
            except Exception as exc:  # any error is a failure of the guarantee
                errors.append(repr(exc))

    threads = [threading.Thread(target=reader, args=(m,)) for m in (True, False)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    out, err = writer.communicate(timeout=60)
    assert writer.returncode == 0, err
    assert not errors, errors[:5]
    assert int(out) >= 2 and seen  # the writer did re-save while we read


# ------------------------------------------------------------ 4. lazily verified blocks
def _big_index(tmp_path, n=40000, d=64):
    X = _rng().standard_normal((n, d)).astype(np.float32)  # 10 MiB: three blocks
    index = Index(d, metric="dot")
    index.add(X)
    index.save(tmp_path / "idx")
    return X, tmp_path / "idx"


def _flip(path: Path, offset: int) -> None:
    with open(path, "r+b") as fh:
        fh.seek(offset)
        byte = fh.read(1)
        fh.seek(offset)
        fh.write(bytes([byte[0] ^ 0x10]))


def test_a_flipped_bit_in_the_middle_of_a_mapped_file_is_caught_on_first_read(tmp_path):
    X, path = _big_index(tmp_path)
    size = (path / "vectors.npy").stat().st_size
    _flip(path / "vectors.npy", size // 2)
    loaded = Index.load(path)  # instant: only the edges are hashed here
    assert loaded.is_mmap
    with pytest.raises(DataFormatError, match="vectors.npy is corrupted: bytes"):
        loaded.search(X[:3], k=3)
    with pytest.raises(DataFormatError, match="corrupted"):
        loaded.search(X[:3], k=3)  # and on every later read, not only the first
    with pytest.raises(DataFormatError, match="corrupted"):
        loaded.save(tmp_path / "copy")  # never re-saved under fresh checksums
    assert not (tmp_path / "copy").exists()
    fresh = Index.load(path)
    np.testing.assert_array_equal(fresh.get(0), X[0])  # rows in intact blocks still read
    with pytest.raises(DataFormatError, match="corrupted"):
        fresh.get(len(X) // 2)


def test_an_intact_mapped_index_answers_like_the_in_memory_one(tmp_path):
    X, path = _big_index(tmp_path)
    a, b = Index.load(path), Index.load(path, mmap=False)
    np.testing.assert_array_equal(a.search(X[:5], k=4).ids, b.search(X[:5], k=4).ids)
    assert a._state.check.complete  # every block hashed once; later searches skip it


def test_ivf_checks_only_the_lists_it_reads(tmp_path):
    X = _rng().standard_normal((40000, 64)).astype(np.float32)
    ivf = IVFIndex(64, metric="dot", n_lists=8, n_probe=1)
    ivf.train(X[:2000])
    ivf.add(X)
    ivf.save(tmp_path / "ivf")
    loaded = IVFIndex.load(tmp_path / "ivf")
    loaded.search(X[:1], k=1)
    done = loaded._state.check.parts[0]["done"]
    assert 0 < done.sum() <= done.size
    size = (tmp_path / "ivf" / "vectors.npy").stat().st_size
    _flip(tmp_path / "ivf" / "vectors.npy", size // 2)
    with pytest.raises(DataFormatError, match="corrupted"):
        IVFIndex.load(tmp_path / "ivf").search(X[:50], k=1, n_probe=8)


# ------------------------------------------------------------ 6. meta.json
def _meta(path: Path) -> dict:
    return json.loads((path / "meta.json").read_text())


def _write_meta(path: Path, meta: dict, *, resign: bool = True) -> None:
    if resign:
        meta["meta_sha256"] = storage_mod._meta_digest(meta)
    (path / "meta.json").write_text(json.dumps(meta))


def test_an_edited_metric_is_detected(tmp_path):
    index, _ = _flat(metric="dot")
    index.save(tmp_path / "idx")
    meta = _meta(tmp_path / "idx")
    meta["metric"] = "cosine"
    _write_meta(tmp_path / "idx", meta, resign=False)
    with pytest.raises(DataFormatError, match="meta.json is corrupted or was edited"):
        load(tmp_path / "idx")


@pytest.mark.parametrize("name", ["/etc/passwd", "../x.npy", "vectors.npy/../../x",
                                  "extra.npy"])
def test_only_the_file_names_the_format_defines_are_opened(tmp_path, monkeypatch, name):
    index, _ = _flat()
    index.save(tmp_path / "idx")
    meta = _meta(tmp_path / "idx")
    meta["files"][name] = meta["files"].pop("sq_norms.npy")
    _write_meta(tmp_path / "idx", meta)  # even with a valid checksum
    opened = []
    real_open = os.open
    monkeypatch.setattr(os, "open", lambda p, *a, **k: (opened.append(str(p)),
                                                        real_open(p, *a, **k))[1])
    with pytest.raises(DataFormatError, match="has exactly the files"):
        load(tmp_path / "idx")
    assert not any("passwd" in p or p.startswith("..") or "x.npy" in p for p in opened)


MUTATIONS = {
    "missing dim": lambda m: m.pop("dim"),
    "dim as text": lambda m: m.update(dim="8"),
    "negative count": lambda m: m.update(count=-1),
    "count a bool": lambda m: m.update(count=True),
    "files a list": lambda m: m.update(files=[]),
    "shape as text": lambda m: m["files"]["ids.npy"].update(shape="100"),
    "bytes missing": lambda m: m["files"]["ids.npy"].pop("bytes"),
    "params a list": lambda m: m.update(params=[1]),
    "unknown kind": lambda m: m.update(kind="hnsw"),
    "metric unknown": lambda m: m.update(metric="manhattan"),
    "count disagrees": lambda m: m.update(count=7),
}


@pytest.mark.parametrize("what", list(MUTATIONS))
def test_malformed_metadata_is_a_data_format_error(tmp_path, what):
    index, _ = _flat()
    index.save(tmp_path / "idx")
    meta = _meta(tmp_path / "idx")
    MUTATIONS[what](meta)
    _write_meta(tmp_path / "idx", meta)
    with pytest.raises(DataFormatError):
        load(tmp_path / "idx")


def test_ivf_params_of_the_wrong_type_are_a_data_format_error(tmp_path):
    index, _ = _ivf()
    index.save(tmp_path / "idx")
    meta = _meta(tmp_path / "idx")
    meta["params"]["n_lists"] = [4]
    _write_meta(tmp_path / "idx", meta)
    with pytest.raises(DataFormatError):
        load(tmp_path / "idx")


def test_deep_nesting_and_directories_in_place_of_files(tmp_path):
    index, _ = _flat()
    index.save(tmp_path / "idx")
    good = (tmp_path / "idx" / "meta.json").read_text()
    (tmp_path / "idx" / "meta.json").write_text("[" * 200_000 + "]" * 200_000)
    with pytest.raises(DataFormatError, match="nested too deeply"):
        load(tmp_path / "idx")
    (tmp_path / "idx" / "meta.json").write_text(good)
    (tmp_path / "idx" / "ids.npy").unlink()
    (tmp_path / "idx" / "ids.npy").mkdir()
    with pytest.raises(DataFormatError, match="not a regular file"):
        load(tmp_path / "idx")
    (tmp_path / "idx" / "meta.json").unlink()
    (tmp_path / "idx" / "meta.json").mkdir()
    with pytest.raises(DataFormatError, match="not a regular file"):
        load(tmp_path / "idx")


def test_a_version_1_index_loads_with_a_warning_and_is_still_checked(tmp_path):
    X, path = _big_index(tmp_path)
    meta = _meta(path)
    meta["format_version"] = 1
    meta.pop("meta_sha256")
    for entry in meta["files"].values():
        entry.pop("block_sha256", None)
        entry.pop("block_bytes", None)
    _write_meta(path, meta, resign=False)
    with pytest.warns(UserWarning, match="format version 1.*Re-save it"):
        old = load(path)
    np.testing.assert_array_equal(old.search(X[:2], k=2).ids,
                                  exact_search(X, X[:2], k=2, metric="dot").ids)
    _flip(path / "vectors.npy", (path / "vectors.npy").stat().st_size // 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        damaged = load(path)
    with pytest.raises(DataFormatError, match="corrupted"):
        damaged.search(X[:2], k=2)  # v1 has no blocks: the whole file on first read


# ------------------------------------------------------------ 7. threads
@pytest.mark.parametrize("kind", ["flat", "ivf"])
def test_searches_during_add_and_remove_always_see_a_whole_index(kind):
    rng = _rng(5)
    X = rng.standard_normal((400, 16)).astype(np.float32)
    if kind == "flat":
        index = Index(16, metric="dot")
    else:
        index = IVFIndex(16, metric="dot", n_lists=8, n_probe=8)  # all lists: exact
        index.train(X)
    index.add(X)
    extra = rng.standard_normal((300, 16)).astype(np.float32) * 0.1  # never the best match
    stop = threading.Event()
    errors: list[str] = []

    def writer():
        i = 0
        while not stop.is_set():
            ids = np.arange(10_000 + i * 300, 10_300 + i * 300)
            index.add(extra, ids=ids)
            index.remove(ids)
            i += 1

    def searcher():
        Q = X[::7] / np.linalg.norm(X[::7], axis=1, keepdims=True) * 100
        want = exact_search(X, Q, k=1, metric="dot").ids[:, 0]
        while not stop.is_set():
            try:
                got = index.search(Q, k=1).ids[:, 0]
                if not np.array_equal(got, want):
                    errors.append(f"wrong ids: {got[got != want][:5]}")
            except Exception as exc:
                errors.append(repr(exc))

    threads = [threading.Thread(target=writer)] + [threading.Thread(target=searcher)
                                                    for _ in range(2)]
    for t in threads:
        t.start()
    time.sleep(2.0)
    stop.set()
    for t in threads:
        t.join(30)
    assert not errors, errors[:5]
    assert len(index) == 400


# ------------------------------------------------------------ 8. ids
def test_reserved_ids_and_non_integer_membership():
    index, _ = _flat()
    for bad in (-1, 2**63 - 1):
        with pytest.raises(ValueError, match=f"ids must not contain {bad}"):
            index.add(np.ones((1, 8)), ids=[bad])
    index.add(np.ones((1, 8)), ids=[-2])  # other negative ids are fine
    assert 21 in index and 21.0 in index
    assert 7.5 not in index and 21.5 not in index and True not in index
    assert "21" not in index and None not in index and 2**70 not in index
    near = Index(2)
    near.add([[1.0, 0.0]], ids=[2**63 - 2])
    with pytest.raises(ValueError, match="no room for 1 consecutive ids"):
        near.add([[0.0, 1.0]])
    assert len(near) == 1


# ------------------------------------------------------------ 9. float32 overflow
@pytest.mark.parametrize("metric", ["dot", "l2"])
def test_values_beyond_float32_are_refused_after_the_cast(metric):
    index = Index(2, metric=metric)
    with pytest.raises(ValueError, match="too large for float32"):
        index.add([[1e300, 1.0]])
    with pytest.raises(ValueError, match="too large for float32"):
        index.search([1e300, 1.0])
    assert len(index) == 0
    wide = Index(2, metric=metric, dtype="float64")
    wide.add([[1e300, 1.0]]) if metric == "dot" else None


@given(scale=st.sampled_from([1e-300, 1e-100, 1e-30, 1.0, 1e30, 1e100, 1e300]))
@settings(max_examples=7, deadline=None)
def test_cosine_keeps_the_direction_at_any_magnitude(scale):
    index = Index(2, metric="cosine")
    index.add(np.array([[3.0, 4.0], [1.0, 0.0]]) * scale)
    np.testing.assert_allclose(index.get([0, 1]), [[0.6, 0.8], [1.0, 0.0]], rtol=1e-6)
    assert np.all(np.isfinite(index.vectors))
    assert index.search(np.array([3.0, 4.0]) * scale, k=1).ids[0] == 0


# ------------------------------------------------------------ 10. non-finite scores
@given(data=st.data())
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
def test_nan_rows_of_a_mapped_collection_never_hide_valid_results(tmp_path, data):
    n = data.draw(st.integers(5, 60))
    k = data.draw(st.integers(1, 8))
    metric = data.draw(st.sampled_from(["cosine", "dot", "l2"]))
    bad = data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=n // 2, unique=True))
    X = _rng(n).standard_normal((n, 6)).astype(np.float32)
    X[bad[0]] = np.nan
    for i in bad[1:]:
        X[i, int(i % 6)] = np.nan
    path = tmp_path / f"x{n}-{k}.npy"
    np.save(path, X)
    mm = np.load(path, mmap_mode="r")
    Q = _rng(k).standard_normal((3, 6)).astype(np.float32)
    clean = np.setdiff1d(np.arange(n), bad)
    truth = exact_search(X[clean], Q, k=k, metric=metric)
    got = exact_search(mm, Q, k=k, metric=metric)
    want = np.where(truth.ids >= 0, clean[np.maximum(truth.ids, 0)], -1)
    np.testing.assert_array_equal(got.ids, want)


def test_overflowing_scores_never_displace_finite_ones():
    index = Index(2, metric="dot")
    index.add([[3e38, 3e38], [1.0, 0.0], [0.5, 0.0]], ids=[1, 2, 3])
    r = index.search([10.0, 10.0], k=3)  # id 1 scores 6e39: inf in float32
    assert r.ids.tolist() == [2, 3, -1] and np.all(np.isfinite(r.scores[:2]))


# ------------------------------------------------------------ 12. k
@pytest.mark.parametrize("make", [_flat, _ivf], ids=["flat", "ivf"])
def test_a_huge_k_is_refused_with_the_memory_it_needs(make):
    index, X = make()
    with pytest.raises(ValueError, match=r"k=1,000,000,000 .* GiB .* pass k <= 100"):
        index.search(X[0], k=10**9)
    r = index.search(X[0], k=150)  # padding that fits is kept, as documented
    assert r.ids.shape == (150,) and (r.ids[100:] == -1).all() and (r.ids[:100] >= 0).all()
    with pytest.raises(ValueError, match="pass k <= 100"):
        exact_search(X, X[0], k=10**9)


# ------------------------------------------------------------ 13. CLI
def test_cli_index_errors_are_one_line(tmp_path):
    from typer.testing import CliRunner

    from dotwise.cli import get_app

    runner = CliRunner()
    index, X = _flat()
    index.save(tmp_path / "idx")
    np.save(tmp_path / "q.npy", X[:2])
    (tmp_path / "empty.npy").write_bytes(b"")
    np.save(tmp_path / "none.npy", np.zeros((0, 8)))
    meta = _meta(tmp_path / "idx")
    (tmp_path / "bad").mkdir()
    for f in ("vectors.npy", "ids.npy", "sq_norms.npy"):
        (tmp_path / "bad" / f).write_bytes((tmp_path / "idx" / f).read_bytes())
    meta["dim"] = "eight"
    (tmp_path / "bad" / "meta.json").write_text(json.dumps(meta))
    cases = [
        (["index", "query", str(tmp_path / "idx"), str(tmp_path / "q.npy"), "-k",
          "1000000000"], "pass k <= 100"),
        (["index", "info", str(tmp_path / "bad")], "meta.json"),
        (["index", "build", str(tmp_path / "empty.npy"), "-o", str(tmp_path / "o")],
         "not a readable .npy file"),
        (["index", "build", str(tmp_path / "none.npy"), "-o", str(tmp_path / "o")],
         "holds no vectors"),
    ]
    for args, needle in cases:
        res = runner.invoke(get_app(), args)
        text = " ".join(res.output.split())
        assert res.exit_code == 2, (args, res.output, res.exception)
        assert "Traceback" not in res.output and needle in text, (args, text)
        assert text.startswith("error:"), text


def test_a_load_during_a_live_writers_swap_waits_then_explains(tmp_path, monkeypatch):
    path = tmp_path / "idx"
    index, _ = _flat()
    index.save(path)
    # this very process plays the live writer stopped between its two renames
    os.replace(path, tmp_path / f".idx.old-{os.getpid()}-00c0ffee")
    monkeypatch.setattr(storage_mod, "_WAIT", 0.05)
    with pytest.raises(FileNotFoundError, match=rf"process {os.getpid()} is replacing it"):
        load(path)
    assert not path.exists()  # a live writer's state is never touched


@pytest.fixture(scope="module")
def saved_pair(tmp_path_factory):
    root = tmp_path_factory.mktemp("fuzz")
    out = {}
    for make in (_flat, _ivf):
        index, X = make(n=300)
        index.save(root / make.__name__)
        out[make.__name__] = (root / make.__name__, X, index.search(X[:4], k=3).ids)
    return out


@given(kind=st.sampled_from(["_flat", "_ivf"]),
       file=st.sampled_from(["meta.json", "vectors.npy", "ids.npy", "sq_norms.npy",
                             "centroids.npy", "offsets.npy"]),
       where=st.floats(0, 1, exclude_max=True), bit=st.integers(0, 7),
       mmap=st.booleans())
@settings(max_examples=60, deadline=None, suppress_health_check=[
    HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
def test_any_flipped_bit_is_a_data_format_error(saved_pair, tmp_path_factory, kind, file,
                                                where, bit, mmap):
    import shutil

    src, X, want = saved_pair[kind]
    if not (src / file).exists():
        return
    path = tmp_path_factory.mktemp("flip") / "idx"
    shutil.copytree(src, path)
    target = path / file
    offset = int(where * target.stat().st_size)
    data = bytearray(target.read_bytes())
    data[offset] ^= 1 << bit
    target.write_bytes(bytes(data))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            got = load(path, mmap=mmap).search(X[:4], k=3).ids
    except DataFormatError:
        return
    # a flip JSON cannot see (e.g. inside whitespace) must change nothing
    assert file == "meta.json", f"a flipped bit in {file} went unnoticed"
    np.testing.assert_array_equal(got, want)
