"""The lines of an answer, as structure: which citations each quoted line groups, and the notes.

:func:`askculture.answering.ask` writes ``Answer.text`` in English: one line per quoted sentence
(the quote, then its ``[n]`` markers: the quote's own source first, then the sources that say the
same), and scaffold lines ("Reported on …:", "The sources differ:", "The indexed documents do not
answer: …", "Sources: …", "The sources are dated differently: …"). The web page shows the quotes
from the citations and the scaffold from its message catalogue; this module reads only which
citation numbers share a line and which kind of scaffold line stands where. A line it does not
recognise is kept as it is (shown verbatim), so a new kind of line is never lost.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from askculture.answering import Answer

LineKind = Literal["quote", "reported_on", "differ", "unanswered", "dated_differently", "other"]

_MARKER = re.compile(r"\[(\d{1,3})\]")
_SPACES = re.compile(r"\s+")
_REPORTED = re.compile(r"^Reported on .*:$")
_DIFFER = "The sources differ:"
_UNANSWERED = "The indexed documents do not answer: "
_SOURCES = "Sources: "
_DATED = re.compile(r"The sources are dated differently: (.+?)\.(?= The sources are dated|$)")


@dataclass
class Line:
    """One line of an answer: a quote (``main`` citation, ``numbers`` in order) or a note."""

    kind: LineKind
    numbers: list[int] = field(default_factory=list)
    main: int | None = None
    text: str = ""
    conflict: bool = False


def _one_line(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


def answer_lines(answer: Answer) -> list[Line]:
    """The structure of ``answer.text``; the "Sources: …" line is left out (the page lists them).

    Args:
        answer: An answer that did not abstain.

    Returns:
        Its lines in order. Every citation appears in some line: one not found in the text gets
        a quote line of its own at the end.
    """
    quotes = {c.n: _one_line(c.quote) for c in answer.citations}
    lines: list[Line] = []
    differ = False
    for raw in answer.text.splitlines():
        text = raw.strip()
        if not text or text.startswith(_SOURCES):
            continue
        numbers = [int(x) for x in _MARKER.findall(text) if int(x) in quotes]
        main = next((n for n in numbers if quotes[n] and quotes[n] in _one_line(text)), None)
        if main is not None:
            lines.append(Line("quote", list(dict.fromkeys(numbers)), main, conflict=differ))
        elif _REPORTED.match(text) and numbers:
            lines.append(Line("reported_on", list(dict.fromkeys(numbers))))
        elif text == _DIFFER:
            differ = True
            lines.append(Line("differ"))
        elif text.startswith(_UNANSWERED):
            lines.append(Line("unanswered", text=text.removeprefix(_UNANSWERED)))
        elif _DATED.match(text):
            lines += [Line("dated_differently", text=m.group(1)) for m in _DATED.finditer(text)]
        else:
            lines.append(Line("other", text=text))
    shown = {n for x in lines for n in x.numbers}
    lines += [Line("quote", [c.n], c.n) for c in answer.citations if c.n not in shown]
    return lines
