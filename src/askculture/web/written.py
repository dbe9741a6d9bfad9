"""Written answers in the chat: how a turn's answer was worded, and the words around it.

With ``answer.backend = "llm"`` a turn keeps :meth:`askculture.writing.Reply.to_dict`: the
extractive answer's citations and passages, plus ``written``, ``backend``, ``model``,
``fallback`` and ``notice``. :class:`Writing` reads those keys back (a turn kept before written
answers existed reads as an extractive one) and says, in the interface language, who wrote the
answer or why the quotes are shown instead.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from askculture.web.i18n import Messages

DRAFT_INTERVAL_S = 0.05
"""The chat's draft bubble is updated at most this often while the model writes."""

FALLBACK_KINDS = frozenset(
    {"gate", "not_in_documents", "timeout", "connection", "http_error", "malformed"}
)
"""Why a written answer was not shown (:data:`askculture.writing.Fallback`): each has a
``written.fallback.<kind>`` message."""


@dataclass(frozen=True)
class Writing:
    """How an answer was worded: quoted (extractive), written by a model, or quoted after the
    model's answer was refused.

    Attributes:
        backend: "extractive" or "llm".
        written: True when ``text`` was written by the model and passed the quote check.
        text: The written answer (``[n]`` markers), when ``written``.
        model: The model that wrote (or was asked to write).
        fallback: Why a written answer is not shown (a :data:`FALLBACK_KINDS` member).
        notice: The library's one-line notice of that (English, with the details).
    """

    backend: str = "extractive"
    written: bool = False
    text: str = ""
    model: str | None = None
    fallback: str | None = None
    notice: str | None = None

    @classmethod
    def of(cls, body: Mapping[str, Any]) -> Writing:
        """The writing of a kept answer (``Reply.to_dict()`` or ``Answer.to_dict()``)."""
        written = bool(body.get("written"))
        return cls(
            backend=str(body.get("backend") or "extractive"), written=written,
            text=str(body.get("text") or "") if written else "",
            model=str(body["model"]) if body.get("model") else None,
            fallback=str(body["fallback"]) if body.get("fallback") else None,
            notice=str(body["notice"]) if body.get("notice") else None,
        )  # fmt: skip

    def marker(self, m: Messages) -> str:
        """The line that says the answer was written by a model, and checked."""
        return m("written.marker", model=self.model or "?")

    def fallback_text(self, m: Messages) -> str | None:
        """One line saying why the quotes are shown instead of a written answer (None when
        nothing was refused)."""
        if self.written or not (self.fallback or self.notice):
            return None
        if self.fallback in FALLBACK_KINDS:
            return m(f"written.fallback.{self.fallback}")
        return self.notice


def history_text(body: Mapping[str, Any]) -> str:
    """What an answer said, for the reader's follow-up questions: always the quoted text (a
    written answer says nothing its quotes do not, and the reader resolves follow-ups from its
    own words)."""
    return str(body.get("quoted_text") or body.get("text") or "")


class Throttle:
    """True at most once per ``interval`` seconds (the first call is always True)."""

    def __init__(self, interval: float = DRAFT_INTERVAL_S) -> None:
        self.interval = interval
        self._last = float("-inf")

    def __call__(self) -> bool:
        now = time.monotonic()
        if now - self._last < self.interval:
            return False
        self._last = now
        return True
