"""Write the benchmark tables of ``docs/benchmarks.md`` and the README from ``results/*.json``.

Nobody types a benchmark figure: every number in the README's benchmark summary and
in ``docs/benchmarks.md`` is generated here from the committed results, and
``tests/test_benchmark_tables.py`` fails when the committed text differs from what this
script writes. Run it after a benchmark::

    python benchmarks/tables.py          # rewrite docs/benchmarks.md and the README section
    python benchmarks/tables.py --check  # exit 1 if either is out of date

Only results taken under the fair protocol (``"protocol": 2`` — fresh pinned processes
at 1 and 2 threads, the peer in its fastest documented mode, load average recorded) are
quoted. Rows marked noisy or invalid are shown as such and never enter a summary.
Results from before that protocol are listed as "not yet re-measured", without figures.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
DOCS = ROOT / "docs" / "benchmarks.md"
README = ROOT / "README.md"
BEGIN, END = "<!-- bench:summary:begin -->", "<!-- bench:summary:end -->"

sys.path.insert(0, str(HERE))
from _harness import fmt_ratio, markdown_table, protocol_table  # noqa: E402

#: Titles and the order of the sections; a results file not listed comes last, by name.
TITLES = {
    "lstsq": "Least squares",
    "pca": "PCA and regression estimators",
    "eigen": "Eigenvalues",
    "classifier": "Linear classifier",
    "kmeans": "k-means",
    "transform2d": "2-D transformations",
    "attention": "Attention",
    "search": "Similarity search",
    "recommend": "Movie recommender",
    "image": "Image filters",
    "codec": "Image compression (block codec)",
    "scale": "Scale-out on a Dask cluster",
    "scale_search": "Sharded search and ALS on a cluster",
    "playground": "Playground latency",
}


def load_results(results: Path = RESULTS) -> dict[str, dict[str, Any]]:
    """Every committed full-run result (``*.quick.json`` smoke runs are ignored)."""
    out = {}
    for path in sorted(results.glob("*.json")):
        if path.name.endswith(".quick.json"):
            continue
        payload = json.loads(path.read_text(encoding="utf-8"))
        if payload.get("kind") == "device-check":  # gpu_check.py: reported by hand
            continue
        out[path.stem] = payload
    order = list(TITLES)
    return dict(sorted(out.items(), key=lambda kv: (order.index(kv[0]) if kv[0] in order
                                                    else len(order), kv[0])))


def quotable(row: dict[str, Any]) -> bool:
    return bool(row.get("valid", True)) and not row.get("noisy") and row.get("ratio") is not None


def summary_cells(payload: dict[str, Any], peer: str | None = None) -> list[str]:
    """``min–max (median)`` of the quotable ratios, one cell per thread count.

    With ``peer``, only the rows against that peer count.
    """
    cells = []
    for run in payload["runs"]:
        ratios = [float(r["ratio"]) for r in run["rows"]
                  if quotable(r) and (peer is None or r.get("peer") == peer)]
        if not ratios:
            cells.append("—")
            continue
        lo, hi, med = min(ratios), max(ratios), statistics.median(ratios)
        cells.append(f"{fmt_ratio(lo)}–{fmt_ratio(hi)} (median {fmt_ratio(med)}, "
                     f"{len(ratios)} cases)" if len(ratios) > 1 else fmt_ratio(lo))
    return cells


def machine_line(payload: dict[str, Any]) -> str:
    m = payload.get("machine", {})
    loads = [(r.get("load_before"), r.get("load_after")) for run in payload["runs"]
             for r in run["rows"]]
    loads = [x for pair in loads for x in pair if isinstance(x, (int, float))]
    noisy = sum(bool(r.get("noisy")) for run in payload["runs"] for r in run["rows"])
    load = f"load average {min(loads):.2f}–{max(loads):.2f}" if loads else "load not recorded"
    versions = m.get("versions", {})
    peers = ", ".join(f"{k} {v}" for k, v in versions.items()
                      if v not in ("not installed", None) and k != "blas")
    return (f"Measured {m.get('date', '?')} on {m.get('cpu_model', '?')} "
            f"({m.get('isa', '?')}, {m.get('cpu_count', '?')} cores), threads "
            f"{', '.join(str(r['threads']) for r in payload['runs'])}; {load}"
            f"{f'; {noisy} noisy row(s), not quoted' if noisy else ''}. Versions: {peers}.")


def _fmt_err(x: Any) -> str:
    return "—" if not isinstance(x, (int, float)) else f"{x:.1e}"


def _db(x: Any, sign: str = "") -> str:
    return "—" if not isinstance(x, (int, float)) else f"{x:{sign}.2f}"


def quality_rows(payload: dict[str, Any]) -> list[list[str]]:
    """Table cells of the rows with ``"kind": "quality"`` (PSNR at an equal byte budget)."""
    return [[f"{r['budget_ratio']:.0%}", f"{r['peer']} ({r.get('mode', '—')})",
             f"{r.get('compared', '?')} of {r.get('images', '?')}",
             _db(r.get("median_psnr_dotwise")), _db(r.get("median_psnr_peer")),
             _db(r.get("difference_of_medians_db"), "+"),
             _db(r.get("median_of_differences_db"), "+"),
             f"{r.get('worst_image') or '—'} {_db(r.get('worst_difference_db'), '+')}"]
            for run in payload["runs"] for r in run["rows"] if r.get("kind") == "quality"]


def docs_page(results: dict[str, dict[str, Any]]) -> str:
    parts = ["# Benchmarks", "",
             "Generated by `python benchmarks/tables.py` from `benchmarks/results/*.json`; do "
             "not edit by hand. Ratios are peer time / dotwise time, medians of interleaved "
             "runs: above 1 dotwise is faster, below 1 the peer is. Each comparison ran in a "
             "fresh process pinned to the thread count of its column. How the benchmarks "
             "measure is in `BENCHMARKS.md` of the project's shared notes and in "
             "`benchmarks/_harness.py`.", ""]
    legacy = []
    for name, payload in results.items():
        title = TITLES.get(name, name)
        if payload.get("protocol") != 2:
            legacy.append(f"- {title} (`benchmarks/bench_{name}.py`)")
            continue
        parts += [f"## {title} (`benchmarks/bench_{name}.py`)", "", machine_line(payload), "",
                  protocol_table(payload).split("\n\n", 1)[1], ""]
        memory = [[r["case"], r.get("workers", run["threads"]), _fmt_err(r.get("x_rel_error")),
                   r.get("wall_s", "—"), ", ".join(f"{v:.0f}" for v in r["workers_mib"].values()),
                   f"{r.get('client_and_scheduler_mib', float('nan')):.0f}",
                   r.get("memory_limit", "—"), "yes" if r.get("workers_within_limit") else "NO"]
                  for run in payload["runs"] for r in run["rows"] if "workers_mib" in r]
        if memory:
            parts += ["Bounded memory (peak RSS, VmHWM, MiB; one run each — not a timing "
                      "comparison, so the load does not make it noisy):", "",
                      markdown_table(["case", "workers", "answer error", "wall s",
                                      "workers MiB", "client+scheduler MiB", "limit",
                                      "within limit"], memory), ""]
        quality = quality_rows(payload)
        if quality:
            parts += ["Quality at equal size (PSNR in dB; files are the same at any thread "
                      "count, so these rows come from one run and are not timings):", "",
                      markdown_table(["budget", "peer (mode)", "images", "dotwise",
                                      "peer", "difference of medians",
                                      "median per-image difference", "worst image"],
                                     quality), ""]
        answers = []
        for run in payload["runs"]:
            for r in run["rows"]:
                ours, theirs = r.get("dotwise"), r.get("peer_timing")
                if isinstance(ours, dict) and isinstance(theirs, dict) and (
                        ours.get("note") or theirs.get("note")):
                    answers.append(f"- {r['case']} ({run['threads']}): dotwise "
                                   f"{ours.get('note') or '—'}; {r.get('peer')} "
                                   f"{theirs.get('note') or '—'}")
        if answers:
            parts += ["Answers checked in the same runs (accuracy does not depend on the "
                      "load):", "", *dict.fromkeys(answers), ""]
        notes = [r.get("note") for run in payload["runs"] for r in run["rows"] if r.get("note")]
        if notes:
            parts += ["Notes: " + "; ".join(dict.fromkeys(str(n) for n in notes)) + ".", ""]
    if legacy:
        parts += ["## Not yet re-measured under the fair protocol", "",
                  "These results predate the protocol (peers not always in their fastest "
                  "mode, machines under load, one thread count); their figures are not "
                  "quoted until the scripts are re-run:", "", *legacy, ""]
    return "\n".join(parts).rstrip() + "\n"


def readme_summary(results: dict[str, dict[str, Any]]) -> str:
    rows = []
    for name, payload in results.items():
        if payload.get("protocol") != 2:
            continue
        peers = list(dict.fromkeys(str(r.get("peer", "")) for run in payload["runs"]
                                   for r in run["rows"] if r.get("ratio") is not None))
        m = payload.get("machine", {})
        for peer in peers:  # one line per peer: ratios against different peers never mix
            cells = summary_cells(payload, peer)
            by_threads = {run["threads"]: c for run, c in zip(payload["runs"], cells,
                                                              strict=True)}
            rows.append([TITLES.get(name, name), peer, by_threads.get(1, "—"),
                         by_threads.get(2, "—"), f"{m.get('cpu_model', '?')} ({m.get('isa', '?')})"])
    if not rows:
        return "No benchmark has been re-measured under the fair protocol yet."
    memory_lines = []
    for name, payload in results.items():
        if payload.get("protocol") != 2:
            continue
        mem = [r for run in payload["runs"] for r in run["rows"] if "workers_mib" in r]
        if mem:
            peaks = [v for r in mem for v in r["workers_mib"].values()]
            cases = sorted({r["case"].split(" ", 1)[1] for r in mem})
            ok = all(r.get("valid", True) and r.get("workers_within_limit") for r in mem)
            memory_lines.append(
                f"- {TITLES.get(name, name)}, bounded memory: {'; '.join(cases)} with "
                f"{', '.join(sorted({str(r.get('workers')) for r in mem}))} worker(s), peak "
                f"worker RSS {min(peaks):.0f}–{max(peaks):.0f} MiB (limit "
                f"{mem[0].get('memory_limit', '?')}; "
                f"{'answers checked, all within the limit' if ok else 'SEE docs/benchmarks.md'}).")
    for name, payload in results.items():
        if payload.get("protocol") != 2:
            continue
        for r in (r for run in payload["runs"] for r in run["rows"]
                  if r.get("kind") == "quality" and r.get("difference_of_medians_db") is not None):
            memory_lines.append(
                f"- {TITLES.get(name, name)}, quality at {r['budget_ratio']:.0%} of raw size: "
                f"median PSNR dotwise {_db(r['median_psnr_dotwise'])} dB, {r['peer']} "
                f"{_db(r['median_psnr_peer'])} dB ({_db(r['difference_of_medians_db'], '+')} "
                f"dB; {r.get('compared', '?')} images).")
    table = markdown_table(["capability", "peer", "peer / dotwise, 1 thread",
                            "2 threads", "CPU"], rows)
    return ("Ratios are peer time / dotwise time over every quotable case against that peer "
            "(above 1: dotwise is faster; — : no quotable row, e.g. all noisy); generated from `benchmarks/results/` by `benchmarks/tables.py`. "
            "Every case, the peer's mode and the machine: [docs/benchmarks.md]"
            "(docs/benchmarks.md).\n\n" + table
            + ("\n\n" + "\n".join(memory_lines) if memory_lines else ""))


def with_summary(readme: str, summary: str) -> str:
    if BEGIN not in readme or END not in readme:
        raise SystemExit(f"README.md lacks the markers {BEGIN} … {END}")
    head, rest = readme.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{summary}\n{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--check", action="store_true", help="exit 1 if the files are out of date")
    args = p.parse_args(argv)
    results = load_results()
    page = docs_page(results)
    readme = with_summary(README.read_text(encoding="utf-8"), readme_summary(results))
    current_page = DOCS.read_text(encoding="utf-8") if DOCS.exists() else ""
    stale = [n for n, new, old in (("docs/benchmarks.md", page, current_page),
                                   ("README.md", readme, README.read_text(encoding="utf-8")))
             if new != old]
    if args.check:
        if stale:
            print("out of date: " + ", ".join(stale) + " (run python benchmarks/tables.py)")
            return 1
        return 0
    DOCS.parent.mkdir(parents=True, exist_ok=True)
    DOCS.write_text(page, encoding="utf-8")
    README.write_text(readme, encoding="utf-8")
    print("wrote " + (", ".join(stale) if stale else "nothing (already up to date)"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
