"""Passages → a cited, extractive answer (or an honest abstention).

- :mod:`~askculture.answering.answer`: the :class:`Answer` and :class:`Citation` types;
- :mod:`~askculture.answering.text`: sentences, dates, numbers and names in text;
- :mod:`~askculture.answering.question`: what a question asks;
- :mod:`~askculture.answering.followup`: follow-up questions in a conversation;
- :mod:`~askculture.answering.features`: candidate sentences and their signals;
- :mod:`~askculture.answering.reader`: the fitted model that weighs the signals;
- :mod:`~askculture.answering.compose`: the text a person reads;
- :mod:`~askculture.answering.ask`: :func:`ask`, which runs them in order.
"""

from __future__ import annotations

from askculture.answering.answer import (
    Answer,
    Citation,
    CitationError,
    make_citation,
    verify_citation,
)
from askculture.answering.ask import ask, check_script

__all__ = [
    "Answer",
    "Citation",
    "CitationError",
    "ask",
    "check_script",
    "make_citation",
    "verify_citation",
]
