"""The lines of an answer as the page shows them: one per quoted sentence, then notes.

:func:`askculture.answering.ask` quotes one sentence per citation (``Answer.citations``, in
order) and lists the parts of a compound question it could not answer (``Answer.unanswered``);
the page builds its lines from that structure, in the interface language, never from the English
``Answer.text``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from askculture.answering import Answer

LineKind = Literal["quote", "unanswered"]


@dataclass
class Line:
    """One line of an answer: a quote (``main`` citation, ``numbers`` its markers) or a note."""

    kind: LineKind
    numbers: list[int] = field(default_factory=list)
    main: int | None = None
    text: str = ""


def answer_lines(answer: Answer) -> list[Line]:
    """The lines of an answer that did not abstain: its quotes in citation order, then a note
    for each part of the question that the documents do not answer."""
    lines = [Line("quote", [c.n], c.n) for c in answer.citations]
    return lines + [Line("unanswered", text=part) for part in answer.unanswered]
