"""Tour: where to go next."""

from __future__ import annotations

from dotwise.tour import Section, TourContext


def run(ctx: TourContext) -> None:
    ctx.text(
        "Every section above is the dot product in a different costume. To play with "
        "them interactively, install the web extra and start the local playground:\n"
        "  pip install -e '.\\[web]'  &&  dotwise playground   (then open http://127.0.0.1:8765)"
    )


SECTION = Section(key="next", title="Next: the playground", order=99, run=run,
                  summary="How to explore these ideas interactively.")
