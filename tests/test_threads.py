"""dotwise's shared thread helpers: the one-BLAS-thread pin, used from any thread."""
from __future__ import annotations

import threading

import pytest

threadpoolctl = pytest.importorskip("threadpoolctl")

from dotwise._threads import one_blas_thread  # noqa: E402


def blas_threads() -> list[int]:
    # process-wide BLAS thread counts; an OpenBLAS built on OpenMP (one that faiss or torch
    # may load) keeps a count per thread, which no process-wide pin can set for others
    return sorted(i["num_threads"] for i in threadpoolctl.threadpool_info()
                  if i["user_api"] == "blas" and i.get("threading_layer") != "openmp")


def in_thread(fn):
    out = []
    t = threading.Thread(target=lambda: out.append(fn()))
    t.start()
    t.join()
    return out[0]


def pinned_reading() -> list[int]:
    with one_blas_thread():
        return blas_threads()


def threadpoolctl_reading() -> list[int]:
    """What threadpoolctl's own limit gives in this thread: the oracle (a library that
    keeps its thread count per thread, as one loaded by torch may, reads the same)."""
    with threadpoolctl.threadpool_limits(limits=1, user_api="blas"):
        return blas_threads()


def test_the_pin_applies_in_any_thread_and_restores():
    before = blas_threads()
    if not before:
        pytest.skip("no BLAS library that threadpoolctl can control")
    assert pinned_reading() == threadpoolctl_reading()
    assert 1 in pinned_reading()
    assert blas_threads() == before
    # after a pin on this thread, a pin on another thread still takes effect (threadpoolctl
    # hands control of OpenBLAS to the thread that set it until the limit is exited)
    assert in_thread(pinned_reading) == in_thread(threadpoolctl_reading)
    assert blas_threads() == before


def test_overlapping_pins_in_two_threads_restore_only_when_both_leave():
    before = blas_threads()
    if not before:
        pytest.skip("no BLAS library that threadpoolctl can control")
    entered, release = threading.Event(), threading.Event()
    seen = {"oracle": threadpoolctl_reading()}

    def holder():
        with one_blas_thread():
            entered.set()
            release.wait(10)
            seen["holder at exit"] = blas_threads()

    t = threading.Thread(target=holder)
    t.start()
    entered.wait(10)
    with one_blas_thread():
        pass                                  # leaves first: the holder still needs the pin
    seen["after the first left"] = blas_threads()
    release.set()
    t.join()
    assert seen["after the first left"] == seen["oracle"]
    assert seen["holder at exit"] == seen["oracle"]
    assert blas_threads() == before
