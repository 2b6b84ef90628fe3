"""The README's and docs/benchmarks.md's figures are exactly what benchmarks/tables.py writes."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _module(name: str):
    sys.path.insert(0, str(REPO / "benchmarks"))
    spec = importlib.util.spec_from_file_location(name, REPO / "benchmarks" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_committed_tables_match_the_committed_results():
    tables = _module("tables")
    assert tables.main(["--check"]) == 0, "run: python benchmarks/tables.py"


def _payload(rows_by_threads):
    return {"name": "x", "protocol": 2, "machine": {"cpu_model": "CPU", "isa": "AVX2+FMA"},
            "runs": [{"threads": t, "rows": rows} for t, rows in rows_by_threads.items()]}


def test_noisy_and_invalid_rows_are_never_quoted():
    tables = _module("tables")
    payload = _payload({
        1: [{"case": "a", "peer": "p", "ratio": 2.0, "valid": True, "noisy": False},
            {"case": "b", "peer": "p", "ratio": 9.0, "valid": True, "noisy": True}],
        2: [{"case": "a", "peer": "p", "ratio": 0.5, "valid": False, "noisy": False},
            {"case": "b", "peer": "p", "ratio": 1.5, "valid": True, "noisy": False}],
    })
    page = tables.docs_page({"x": payload})
    assert "noisy" in page and "invalid" in page and "9.00×" not in page
    cells = tables.summary_cells(payload)
    assert cells == ["2.00×", "1.50×"]


def test_the_protocol_marks_rows_noisy_by_the_load_rule():
    harness = _module("_harness")
    assert harness.is_noisy(2.4, 2.6, threads=2) is True
    assert harness.is_noisy(2.4, 2.5, threads=2) is False
    assert harness.cpu_info()["isa"] in ("AVX-512", "AVX2+FMA", "baseline")


def test_shuffled_rounds_change_who_runs_before_whom():
    harness = _module("_harness")
    calls: list[str] = []
    names = "abcdef"
    contenders = {name: (lambda name=name: calls.append(name)) for name in names}
    timings = harness.compare(contenders, repeat=12, warmup=1, shuffle=True)
    rounds = [calls[6 + 6 * i: 12 + 6 * i] for i in range(12)]      # after the warm-ups
    assert all(sorted(r) == list(names) for r in rounds)             # each round runs all
    assert all(len(t.times) == 12 for t in timings.values())
    before_a = {r[r.index("a") - 1] for r in rounds if r.index("a") > 0}
    assert len(before_a) >= 3                                        # not always the same one
    calls.clear()
    harness.compare(contenders, repeat=12, warmup=1, shuffle=True)
    assert [calls[6 + 6 * i: 12 + 6 * i] for i in range(12)] == rounds   # seeded: repeatable
    calls.clear()
    harness.compare(contenders, repeat=2, warmup=1)                  # the default: fixed order
    assert calls[6:] == list(names) * 2
