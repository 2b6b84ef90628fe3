"""``dotwise tour``: every system run end to end on bundled data, with a report.

Sections live in :mod:`dotwise.tour.sections`, one module each, and are
discovered automatically: a module defines ``SECTION = Section(...)`` whose
``run(ctx)`` uses the :class:`TourContext` to print tables, save figures and
record checks (a tour with a failed check exits non-zero). The tour is a face:
sections call only dotwise's public API.
"""

from __future__ import annotations

from ._framework import Section, TourContext, TourResult, discover_sections, run_tour

__all__ = ["Section", "TourContext", "TourResult", "discover_sections", "run_tour"]
