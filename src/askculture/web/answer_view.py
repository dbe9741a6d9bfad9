"""The lines of an answer as the page shows them: one per quoted sentence.

:func:`askculture.answering.ask` quotes one sentence per citation (``Answer.citations``, in
order); the page builds its lines from that structure, in the interface language, never from the
English ``Answer.text``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from askculture.answering import Answer

LineKind = Literal["quote"]


@dataclass
class Line:
    """One line of an answer: a quote (``main`` citation, ``numbers`` its markers)."""

    kind: LineKind
    numbers: list[int] = field(default_factory=list)
    main: int | None = None


def answer_lines(answer: Answer) -> list[Line]:
    """The lines of an answer that did not abstain: its quotes in citation order."""
    return [Line("quote", [c.n], c.n) for c in answer.citations]
