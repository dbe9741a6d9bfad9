"""Conversations: resolve a follow-up question with the turns before it.

"And who signed it?" or "Когда это было?" says nothing of its subject; the subject is in the
previous question. A question is a follow-up when there is a history and the question points
back (a pronoun such as "it", "это", "ол"; or it opens with "and", "а", "ал") while naming little
of its own. Its subject is then the previous question (itself resolved, so chains of follow-ups
keep their subject): the search runs on both, and the previous question's terms, names and years
join the new question's — but the kind of answer asked for ("who", "когда") stays the new one's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from askculture.answering.question import Question, analyse_question
from askculture.answering.text import ANAPHORA, QUESTION_WORDS, tokens
from askculture.lexical import tokenize

_OPENERS = frozenset(
    {"and", "but", "so", "also", "а", "и", "но", "ещё", "еще", "ал", "ә", "және", "енді", "сонда"}
)
_MAX_OWN_TERMS = 4
"""A question with more content words than this stands on its own even with a pronoun."""

Turn = tuple[str, str]
HistoryItem = Sequence[str] | Mapping[str, object] | object


@dataclass(frozen=True, slots=True)
class FollowUp:
    """A question with the subject its conversation gives it (``context``; None if none)."""

    question: str
    context: str | None = None

    @property
    def query(self) -> str:
        """What to search for: the question and its subject."""
        return f"{self.question} {self.context}" if self.context else self.question

    def merge(self, q: Question) -> Question:
        """The analysed follow-up with its subject's terms added, and the subject's years when
        it names none; the kind of answer asked for stays the follow-up's own."""
        if not self.context:
            return q
        ctx = analyse_question(self.context)
        extra = [t for t in ctx.terms if t not in q.terms]
        return replace(q, terms=[*q.terms, *extra], years=q.years or ctx.years)


def history_turns(history: Sequence[HistoryItem] | None) -> list[Turn]:
    """Normalise a conversation history to ``(question, answer)`` pairs, oldest first.

    Accepts pairs (tuples or lists), :class:`~askculture.answering.Answer`-like objects (with
    ``question`` and ``text``), and chat messages (``{"role": "user"|"assistant", "content":
    ...}``), so the web app and the API can pass what they hold.

    Args:
        history: The earlier turns, or None.

    Returns:
        The turns as ``(question, answer text)``; unusable items are skipped.
    """
    turns: list[Turn] = []
    pending: str | None = None
    for item in history or []:
        if isinstance(item, Mapping):
            role, content = item.get("role"), item.get("content")
            if not isinstance(content, str):
                continue
            if role == "user":
                if pending is not None:
                    turns.append((pending, ""))
                pending = content
            elif role == "assistant" and pending is not None:
                turns.append((pending, content))
                pending = None
        elif isinstance(item, (tuple, list)) and item and isinstance(item[0], str):
            answer = item[1] if len(item) > 1 and isinstance(item[1], str) else ""
            turns.append((item[0], answer))
        else:
            asked = getattr(item, "question", None)
            if isinstance(asked, str):
                turns.append((asked, str(getattr(item, "text", ""))))
    if pending is not None:
        turns.append((pending, ""))
    return [(q.strip(), a) for q, a in turns if q and q.strip()]


def is_followup(question: str) -> bool:
    """True when a question points back to an earlier turn and names little of its own.

    Args:
        question: The question.

    Returns:
        True for "And who signed it?", "Когда это было?", "Ол қашан болды?"; False for a
        question that names its own subject.
    """
    words = [t.lower for t in tokens(question)]
    if not words:
        return False
    points_back = words[0] in _OPENERS or any(w in ANAPHORA for w in words)
    own = [w for w in words if w not in QUESTION_WORDS and w not in ANAPHORA and tokenize(w)]
    return points_back and len(own) <= _MAX_OWN_TERMS and not _names_subject(question)


def _names_subject(question: str) -> bool:
    """True when the question names a subject of its own (two or more capitalised words after
    its first)."""
    return sum(1 for t in tokens(question)[1:] if t.text[:1].isupper()) >= 2


def resolve_followup(question: str, history: Sequence[HistoryItem] | None) -> FollowUp:
    """Give a follow-up question the subject of the conversation before it.

    Args:
        question: The (cleaned) question.
        history: Earlier turns, oldest first (see :func:`history_turns`).

    Returns:
        The question with ``context`` set to its subject (the previous question, itself resolved
        against the turns before it) when it is a follow-up; else with ``context`` None.
    """
    turns = history_turns(history)
    if not turns or not is_followup(question):
        return FollowUp(question)
    previous = resolve_followup(turns[-1][0], turns[:-1])
    return FollowUp(question, previous.query)
