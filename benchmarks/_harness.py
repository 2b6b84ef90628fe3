"""The shared benchmark harness (see ../shared/BENCHMARKS.md for the protocol).

Every benchmark script:

* pins every library to the same thread count (``pin_threads``),
* times contenders **interleaved** after one warm-up (``compare``), reporting
  the median, min and max, and the ratio peer_median / dotwise_median
  (> 1 means dotwise is faster),
* checks each contender's answer while timing (a row whose answer is wrong is
  marked invalid, never silently kept),
* writes ``benchmarks/results/<name>.json`` and prints a Markdown table.

Peers are optional: ``optional(name)`` returns ``None`` for a missing package
and the row says "not installed".
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
DOTWISE = "dotwise"


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--quick", action="store_true",
                   help="tiny sizes, a few repeats: checks the script works in seconds")
    p.add_argument("--threads", type=int, default=2, help="threads for every library (default 2)")
    p.add_argument("--repeat", type=int, default=None, help="timed runs per contender (>= 5)")
    p.add_argument("--out", type=Path, default=None, help="where to write the JSON results")
    return p


def pin_threads(n: int) -> dict[str, Any]:
    """Pin BLAS/OpenMP, torch and faiss to ``n`` threads; return what was pinned."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS"):
        os.environ[var] = str(n)
    pinned: dict[str, Any] = {"env": f"OMP/OPENBLAS/MKL_NUM_THREADS={n}"}
    from threadpoolctl import threadpool_limits

    threadpool_limits(n)
    pinned["threadpoolctl"] = n
    torch = optional("torch")
    if torch is not None:
        torch.set_num_threads(n)
        pinned["torch"] = n
    faiss = optional("faiss")
    if faiss is not None:
        faiss.omp_set_num_threads(n)
        pinned["faiss"] = n
    try:
        import cv2

        cv2.setNumThreads(n)
        pinned["opencv"] = n
    except ImportError:
        pass
    return pinned


def optional(name: str):
    """Import a peer if it is installed, else ``None``."""
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


@dataclass
class Timing:
    name: str
    times: list[float] = field(default_factory=list)
    valid: bool = True
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def median(self) -> float:
        return statistics.median(self.times) if self.times else float("nan")

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "median_s": self.median,
                "min_s": min(self.times) if self.times else None,
                "max_s": max(self.times) if self.times else None,
                "n": len(self.times), "valid": self.valid, "note": self.note, **self.extra}


def compare(contenders: dict[str, Callable[[], Any]], *, repeat: int = 5,
            check: Callable[[str, Any], tuple[bool, str]] | None = None,
            warmup: int = 1, shuffle: bool = False) -> dict[str, Timing]:
    """Time ``contenders`` interleaved (A B C A B C …) after ``warmup`` runs each.

    ``check(name, result) -> (ok, note)`` is called on each contender's
    warm-up result; a failed check marks the contender invalid. With ``shuffle``
    each round runs the contenders in a new order (a seeded shuffle, the same on
    every run), so that no contender always follows the same one: for calls of a
    millisecond on data that fits in cache, whoever follows a slow, memory-heavy
    contender starts with a cold cache.
    """
    timings = {name: Timing(name) for name in contenders}
    for name, fn in contenders.items():
        result = None
        for _ in range(max(warmup, 1)):
            result = fn()
        if check is not None:
            ok, note = check(name, result)
            timings[name].valid, timings[name].note = bool(ok), note
        del result
    order = list(contenders.items())
    rng = random.Random(0)
    for _ in range(repeat):
        if shuffle:
            rng.shuffle(order)
        for name, fn in order:
            start = time.perf_counter()
            fn()
            timings[name].times.append(time.perf_counter() - start)
    return timings


def ratio(peer: Timing | None, ours: Timing | None) -> float | None:
    """peer_median / dotwise_median: > 1 means dotwise is faster."""
    if peer is None or ours is None or not peer.times or not ours.times:
        return None
    return peer.median / ours.median


def peak_rss_of(code: str, *, threads: int = 2, timeout: float = 600) -> dict[str, Any]:
    """Run ``code`` in a fresh Python and return its peak resident memory in MiB.

    The figure is ``VmHWM`` from ``/proc/self/status`` (Linux), read at the end
    of the child. Not ``ru_maxrss``: on Linux a child inherits its parent's
    ``ru_maxrss`` across fork and exec, so a child of a large benchmark process
    would report the parent's peak. Elsewhere ``ru_maxrss`` is the fallback.
    """
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads))
    wrapper = (
        "import resource, json, sys\n"
        f"{code}\n"
        "def _peak_kib():\n"
        "    try:\n"
        "        for line in open('/proc/self/status'):\n"
        "            if line.startswith('VmHWM:'):\n"
        "                return int(line.split()[1])\n"
        "    except OSError:\n"
        "        pass\n"
        "    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "print(json.dumps({'maxrss_kib': _peak_kib()}))\n"
    )
    try:
        out = subprocess.run([sys.executable, "-c", wrapper], capture_output=True, text=True,
                             env=env, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"ok": False, "error": f"timed out after {timeout} s"}
    if out.returncode != 0:
        return {"ok": False, "error": (out.stderr.strip().splitlines() or ["failed"])[-1]}
    line = out.stdout.strip().splitlines()[-1]
    return {"ok": True, "peak_mib": json.loads(line)["maxrss_kib"] / 1024}


def machine_info(threads: int, pinned: dict[str, Any] | None = None) -> dict[str, Any]:
    versions = {}
    for mod in ("dotwise", "numpy", "scipy", "sklearn", "torch", "faiss", "hnswlib",
                "surprise", "cv2", "skimage", "PIL"):
        m = optional(mod)
        versions[mod] = getattr(m, "__version__", "installed") if m else "not installed"
    try:
        import numpy as np

        blas = np.show_config(mode="dicts").get("Build Dependencies", {}).get("blas", {})
        versions["blas"] = f"{blas.get('name', '?')} {blas.get('version', '')}".strip()
    except Exception:
        pass
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "threads": threads,
        "pinned": pinned or {},
        "versions": versions,
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "self_maxrss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def fmt_time(seconds: float | None) -> str:
    if seconds is None or seconds != seconds:
        return "—"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


def fmt_ratio(r: float | None) -> str:
    return "—" if r is None else f"{r:.2f}×"


def markdown_table(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    head = "| " + " | ".join(columns) + " |"
    sep = "| " + " | ".join("---" for _ in columns) + " |"
    body = ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join([head, sep, *body])


def results_path(name: str, out: Path | None = None, quick: bool = False) -> Path:
    """Where :func:`write_results` writes: ``out``, or ``results/<name>[.quick].json``."""
    return Path(out) if out else RESULTS / (f"{name}.quick.json" if quick else f"{name}.json")


def write_results(name: str, payload: dict[str, Any], out: Path | None = None,
                  quick: bool = False) -> Path:
    """Write the JSON results atomically; quick runs go to ``<name>.quick.json``."""
    path = results_path(name, out, quick)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(payload, indent=2, default=str) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


# --------------------------------------------------------------------------------------
# The fair protocol (issue 11): the machine in every row, load average before and after,
# noisy rows re-run and flagged, every comparison at 1 and at 2 threads.
# --------------------------------------------------------------------------------------

def cpu_info() -> dict[str, Any]:
    """CPU model and the widest vector ISA it offers (``AVX-512``, ``AVX2+FMA`` or ``baseline``)."""
    model, flags = platform.processor() or platform.machine(), set()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                key, _, value = line.partition(":")
                key = key.strip()
                if key == "model name" and model in ("", platform.machine(), platform.processor()):
                    model = value.strip()
                elif key == "flags" and not flags:
                    flags = set(value.split())
                if model and flags and key == "":
                    break
    except OSError:
        pass
    if {"avx512f", "avx512bw", "avx512vl"} <= flags:
        isa = "AVX-512"
    elif {"avx2", "fma"} <= flags:
        isa = "AVX2+FMA"
    else:
        isa = "baseline"
    return {"cpu_model": model, "isa": isa}


def load_average() -> float:
    """The 1-minute load average (``nan`` where the OS has none)."""
    try:
        return float(os.getloadavg()[0])
    except (OSError, AttributeError):
        return float("nan")


def is_noisy(load_before: float, load_after: float, threads: int) -> bool:
    """The protocol's rule: noisy when the load average exceeds ``threads + 0.5``."""
    return max(load_before, load_after) > threads + 0.5


def measure(contenders: dict[str, Callable[[], Any]], *, threads: int, repeat: int = 5,
            check: Callable[[str, Any], tuple[bool, str]] | None = None, warmup: int = 1,
            retries: int = 2, shuffle: bool = False) -> tuple[dict[str, Timing], dict[str, Any]]:
    """:func:`compare` under the protocol: re-run up to ``retries`` times while noisy.

    Returns the timings and a ``load`` record ``{"load_before", "load_after",
    "noisy", "attempts"}`` to store in the row. A row that stays noisy is kept
    but flagged; the README generator never quotes it.
    """
    attempts = 0
    while True:
        attempts += 1
        before = load_average()
        timings = compare(contenders, repeat=repeat, check=check, warmup=warmup,
                          shuffle=shuffle)
        after = load_average()
        noisy = is_noisy(before, after, threads)
        if not noisy or attempts > retries:
            break
    return timings, {"load_before": round(before, 2), "load_after": round(after, 2),
                     "noisy": noisy, "attempts": attempts}


def thread_env(n: int) -> dict[str, str]:
    """Environment that pins every OpenMP/BLAS runtime to ``n`` threads in a fresh process."""
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS", "DOTWISE_NUM_THREADS"):
        env[var] = str(n)
    return env


def run_per_thread_count(script: str | Path, argv: Sequence[str], thread_counts: Sequence[int],
                         *, timeout: float = 3600) -> list[dict[str, Any]]:
    """Run ``script`` once per thread count, each in a fresh process pinned before imports.

    The child is called with ``--threads n --out <tmp.json>`` plus ``argv`` and
    must write one payload (``{"rows": [...], ...}``); the payloads come back in
    order. Use from a script's ``main`` when ``--threads`` lists several counts.
    """
    import tempfile

    payloads = []
    for n in thread_counts:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "run.json"
            cmd = [sys.executable, str(script), *argv, "--threads", str(n), "--out", str(out)]
            proc = subprocess.run(cmd, env=thread_env(n), timeout=timeout, check=False)
            if proc.returncode != 0:
                raise SystemExit(f"{Path(script).name} failed at {n} thread(s) "
                                 f"(exit {proc.returncode})")
            payloads.append(json.loads(out.read_text(encoding="utf-8")))
    return payloads


def protocol_parser(description: str) -> argparse.ArgumentParser:
    """Like :func:`parser`, but ``--threads`` takes a list (default ``1,2``)."""
    p = parser(description)
    for action in p._actions:
        if action.dest == "threads":
            p._remove_action(action)
            p._option_string_actions.pop("--threads", None)
            break
    p.add_argument("--threads", type=lambda s: [int(t) for t in str(s).split(",") if t],
                   default=[1, 2], help="thread counts, comma-separated (default 1,2); "
                                        "each runs in a fresh pinned process")
    return p


def protocol_main(script: str | Path, name: str, description: str,
                  run: Callable[[argparse.Namespace, int], list[dict[str, Any]]],
                  *, argv: Sequence[str] | None = None,
                  add_args: Callable[[argparse.ArgumentParser], None] | None = None) -> None:
    """The whole protocol for one benchmark script.

    ``run(args, threads)`` is called in a child pinned to ``threads`` (after
    :func:`pin_threads`) and returns rows: dicts with at least ``case`` (a
    stable key, the same at every thread count), ``peer`` and ``mode`` (which
    peer ran, in which documented mode), ``ratio`` (peer/dotwise), ``valid``,
    and the ``load`` record from :func:`measure` merged in. The parent writes
    ``results/<name>.json`` as ``{"name", "machine", "runs": [{"threads", "rows"}]}``
    and prints one Markdown table with a ratio column per thread count.
    """
    p = protocol_parser(description)
    if add_args is not None:
        add_args(p)
    args = p.parse_args(argv)
    if len(args.threads) == 1 and args.out is not None and os.environ.get("_DOTWISE_BENCH_CHILD"):
        n = args.threads[0]
        pinned = pin_threads(n)
        rows = run(args, n)
        payload = {"threads": n, "pinned": pinned, "machine": {**machine_info(n, pinned),
                                                                 **cpu_info()}, "rows": rows}
        args.out.write_text(json.dumps(payload, indent=2, default=str) + "\n", encoding="utf-8")
        return
    passthrough = [a for a in (argv if argv is not None else sys.argv[1:])]
    # drop --threads/--out from what the children get; they receive their own
    cleaned, skip = [], False
    for a in passthrough:
        if skip:
            skip = False
            continue
        if a in ("--threads", "--out"):
            skip = True
            continue
        if a.startswith(("--threads=", "--out=")):
            continue
        cleaned.append(a)
    os.environ["_DOTWISE_BENCH_CHILD"] = "1"
    try:
        runs = run_per_thread_count(script, cleaned, args.threads)
    finally:
        os.environ.pop("_DOTWISE_BENCH_CHILD", None)
    machine = {**runs[0]["machine"], "threads": [r["threads"] for r in runs]}
    payload = {"name": name, "protocol": 2, "quick": bool(args.quick), "machine": machine,
               "runs": [{"threads": r["threads"], "pinned": r["pinned"], "rows": r["rows"]}
                        for r in runs]}
    path = write_results(name, payload, args.out, quick=args.quick)
    print(protocol_table(payload))
    print(f"\nwrote {path}")


def protocol_table(payload: dict[str, Any]) -> str:
    """One Markdown table from a protocol-2 payload: a ratio column per thread count.

    Noisy or invalid cells are shown as such, never as a figure.
    """
    runs = payload["runs"]
    cases: dict[str, dict[str, Any]] = {}
    for run in runs:
        for row in run["rows"]:
            cases.setdefault(row["case"], {"row": row, "by_threads": {}})
            cases[row["case"]]["by_threads"][run["threads"]] = row
    columns = ["case", "peer (mode)", *[f"peer / dotwise, {r['threads']} thr" for r in runs]]
    body = []
    for case, entry in cases.items():
        row = entry["row"]
        cells = []
        for run in runs:
            r = entry["by_threads"].get(run["threads"])
            if r is None:
                cells.append("—")
            elif not r.get("valid", True):
                cells.append("invalid")
            elif r.get("noisy"):
                cells.append("noisy")
            else:
                cells.append(fmt_ratio(r.get("ratio")))
        peer = row.get("peer", "")
        mode = row.get("mode", "")
        body.append([case, f"{peer} ({mode})" if mode else peer, *cells])
    m = payload.get("machine", {})
    head = (f"{m.get('cpu_model', '?')}, {m.get('isa', '?')}; ratio > 1: dotwise faster; "
            f"medians of interleaved runs")
    return head + "\n\n" + markdown_table(columns, body)
