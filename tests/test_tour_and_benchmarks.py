"""Every tour section and every benchmark script runs cleanly (small sizes).

These are discovered, so a new section or benchmark is covered without
editing this file.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console
from typer.testing import CliRunner

from dotwise.cli import get_app
from dotwise.tour import discover_sections, run_tour

REPO = Path(__file__).resolve().parents[1]
BENCHES = sorted((REPO / "benchmarks").glob("bench_*.py"))


@pytest.mark.parametrize("section", discover_sections(), ids=lambda s: s.key)
def test_tour_section_runs_and_its_checks_pass(section, tmp_path):
    console = Console(file=open(tmp_path / "out.txt", "w"), width=120)
    result = run_tour(tmp_path, only=[section.key], console=console)
    (outcome,) = result.outcomes
    assert outcome.error is None, outcome.error
    assert not outcome.failed_checks, outcome.failed_checks
    assert outcome.blocks, "a section must show something"
    html = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert section.title.split(":")[0] in html
    for block in outcome.blocks:
        if block.kind == "figure":
            assert (tmp_path / block.payload["file"]).stat().st_size > 0


def test_tour_cli_lists_and_rejects_unknown_sections(tmp_path):
    runner = CliRunner()
    listed = runner.invoke(get_app(), ["tour", "--list"])
    assert listed.exit_code == 0
    for s in discover_sections():
        assert s.key in listed.output
    bad = runner.invoke(get_app(), ["tour", "--only", "nope", "--out", str(tmp_path)])
    assert bad.exit_code == 2
    assert "unknown section(s) nope" in bad.output


def test_tour_cli_writes_a_report(tmp_path):
    result = CliRunner().invoke(get_app(), ["tour", "--only", "vectors", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "index.html").exists()
    assert "1 sections" in result.output


def test_version_flag():
    from dotwise import __version__

    result = CliRunner().invoke(get_app(), ["--version"])
    assert result.exit_code == 0 and __version__ in result.output


_QUICK_RUNS: dict[str, tuple[subprocess.CompletedProcess, Path]] = {}


@pytest.fixture(scope="session")
def quick_run(tmp_path_factory):
    """``quick_run("bench_x.py") -> (proc, out)``: the script's ``--quick`` run (one thread),
    made once per session and shared by every test that reads its rows."""
    def run(name: str):
        if name not in _QUICK_RUNS:
            stem = name.removesuffix(".py").removeprefix("bench_")
            out = tmp_path_factory.mktemp(stem) / f"{stem}.json"
            proc = subprocess.run([sys.executable, str(REPO / "benchmarks" / name), "--quick",
                                   "--threads", "1", "--out", str(out)],
                                  capture_output=True, text=True, timeout=300, cwd=REPO)
            _QUICK_RUNS[name] = (proc, out)
        return _QUICK_RUNS[name]
    return run


def quick_payload(quick_run, name: str) -> dict:
    """The protocol payload of ``name``'s quick run (it must have succeeded)."""
    import json

    proc, out = quick_run(name)
    assert proc.returncode == 0, proc.stderr[-3000:]
    payload = json.loads(out.read_text())
    assert payload["protocol"] == 2 and payload["machine"]["isa"]
    return payload


@pytest.mark.slow
@pytest.mark.parametrize("script", BENCHES, ids=lambda p: p.name)
def test_benchmark_quick_mode_runs(script, quick_run):
    # every benchmark follows the fair protocol: rows that name the peer and its mode,
    # with the load recorded, at the thread count of the run
    proc, out = quick_run(script.name)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert out.exists() and out.stat().st_size > 0
    assert "|" in proc.stdout, "a benchmark prints a Markdown table"
    payload = quick_payload(quick_run, script.name)
    for run in payload["runs"]:
        assert run["rows"] and run["threads"] >= 1
        for row in run["rows"]:
            assert {"case", "peer", "mode", "ratio", "valid"} <= set(row), row


@pytest.mark.slow
def test_classifier_benchmark_rows_follow_the_protocol(quick_run):
    payload = quick_payload(quick_run, "bench_classifier.py")
    (run,) = payload["runs"]
    assert run["threads"] == 1 and len(run["rows"]) == 2
    for row in run["rows"]:
        assert {"case", "peer", "mode", "ratio", "valid", "load_before", "noisy"} <= set(row)
        if row["accuracy_gap"] > 0.005:
            assert not row["valid"], row
        assert row["valid"], row  # both converge to the same convex minimum
        assert row["ratio"] > 0


@pytest.mark.slow
def test_codec_benchmark_rows_follow_the_protocol(quick_run):
    pytest.importorskip("PIL")
    pytest.importorskip("skimage")
    payload = quick_payload(quick_run, "bench_codec.py")
    (run,) = payload["runs"]
    quality = [r for r in run["rows"] if r["kind"] == "quality"]
    timed = [r for r in run["rows"] if r["kind"] == "time"]
    assert {r["peer"] for r in quality} == {"Pillow JPEG", "Pillow WebP"} and timed
    for row in run["rows"]:
        assert {"case", "peer", "mode", "ratio", "valid"} <= set(row)
    for row in quality:
        assert row["ratio"] is None                        # PSNR rows carry no time ratio
        for x in row["per_image"]:                         # every file within its budget
            assert x["budget"] == int(row["budget_ratio"] * np.prod(x["shape"]))
            for who in ("dotwise", "peer"):
                assert "error" in x[who] or x[who]["bytes"] <= x["budget"]
        ours = [x["dotwise"]["psnr"] for x in row["per_image"] if "psnr" in x["peer"]]
        assert row["median_psnr_dotwise"] == pytest.approx(float(np.median(ours)))
    for row in timed:
        assert {"load_before", "load_after", "noisy"} <= set(row) and row["ratio"] > 0


@pytest.mark.slow
def test_recommend_benchmark_rows_follow_the_protocol(quick_run):
    pytest.importorskip("surprise", reason="the recommender benchmark's peer is Surprise")
    payload = quick_payload(quick_run, "bench_recommend.py")
    (run,) = payload["runs"]
    rows = {row["case"].split(":")[0]: row for row in run["rows"]}
    assert set(rows) == {"predict", "fit", "neighbour lists", "hyper-parameter check"}
    for row in run["rows"]:
        assert {"case", "peer", "mode", "ratio", "valid", "load_before", "noisy"} <= set(row)
    for name in ("predict", "fit"):
        row = rows[name]
        assert row["peer"] == "Surprise SVD" and row["ratio"] > 0
        assert row["valid"] == (row["rmse_dotwise"] <= row["rmse_surprise"])
    nb = rows["neighbour lists"]
    assert nb["ratio"] is None and nb["stored_mib"] < nb["dense_float32_mib"]


@pytest.mark.slow
def test_image_benchmark_rows_follow_the_protocol(quick_run):
    """Filters vs OpenCV's fastest call, scipy and dotwise's NumPy engine, with the ISA."""
    pytest.importorskip("cv2")
    payload = quick_payload(quick_run, "bench_image.py")
    (run,) = payload["runs"]
    rows = run["rows"]
    assert {r["peer"] for r in rows} >= {"OpenCV", "scipy.ndimage"}
    assert len({r["case"] for r in rows}) == len(rows), "one row per case and peer"
    for row in rows:
        assert {"case", "peer", "mode", "ratio", "valid", "load_before", "noisy",
                "dotwise_isa"} <= set(row)
        assert row["valid"], row                       # every answer within 1e-4 of scipy
        assert row["max_abs_error_dotwise"] <= 1e-4
        if row["peer"] == "OpenCV":
            assert row["mode"] in {"cv2.GaussianBlur", "cv2.blur", "cv2.sepFilter2D",
                                   "cv2.filter2D"}
            fastest = min(m["median_s"] for m in row["all_modes"].values())
            assert row["peer_timing"]["median_s"] == fastest
    kernels = {r["kernel"] for r in rows}
    assert len(kernels) == 3


@pytest.mark.slow
def test_attention_benchmark_records_the_engine_and_torch_backend(quick_run):
    pytest.importorskip("torch")
    payload = quick_payload(quick_run, "bench_attention.py")
    (run,) = payload["runs"]
    sdpa = [r for r in run["rows"] if r["case"].startswith("SDPA")]
    assert sdpa and payload["machine"]["isa"]
    for row in sdpa:
        assert row["torch_backend"] == 1, row["mode"]          # torch's FLASH kernel
        assert "4-D" in row["mode"] and row["engine"]
        assert {"ratio", "valid", "load_before", "noisy"} <= set(row)


@pytest.mark.slow
def test_search_benchmark_rows_follow_the_protocol(quick_run):
    pytest.importorskip("faiss")
    payload = quick_payload(quick_run, "bench_search.py")
    (run,) = payload["runs"]
    rows = run["rows"]
    exact = [r for r in rows if r.get("group") == "exact"]
    ivf = [r for r in rows if "n_probe" in r]
    assert len(exact) == 3 and all(r["valid"] and r["ratio"] > 0 for r in exact), exact
    assert {r["peer"] for r in exact} == {"FAISS IndexFlatIP", "FAISS IndexFlatL2"}
    assert ivf and all(r["same_lists"] and r["valid"] for r in ivf), ivf
    for r in rows:
        assert {"case", "peer", "mode", "ratio", "valid"} <= set(r)
    assert (quick_run("bench_search.py")[1].parent / "search_ivf.png").stat().st_size > 0
