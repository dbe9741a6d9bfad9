"""Turns → chat messages, in the interface language.

A conversation is kept as data (:class:`~askculture.web.conversations.Turn`); the chat shows it
by rendering every turn again, so switching the interface language or reloading the page shows
the same conversation in the chosen language.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from askculture.answering import Answer
from askculture.errors import AskCultureError
from askculture.web.conversations import Turn
from askculture.web.filters import FilterError, Filters
from askculture.web.i18n import Messages
from askculture.web.render import answer_from_dict, answer_html, notice_html, question_html
from askculture.web.written import Writing

DocTexts = Callable[[Answer], Mapping[str, str | None]]
"""Gives the full text of an answer's cited documents (for the quotes' context)."""


def sentence(text: str) -> str:
    """A message as a sentence: capital first letter (library messages start in lower case)."""
    text = text.strip()
    return text[:1].upper() + text[1:] if text else text


def notice_body(exc: AskCultureError) -> dict[str, Any]:
    """What to keep of a refusal or error: its catalogue key and values, or its text."""
    key, values = getattr(exc, "key", None), getattr(exc, "values", None)
    if isinstance(key, str) and isinstance(values, dict):
        return {"key": key, "values": {k: str(v) for k, v in values.items()}}
    return {"key": "error.failed", "values": {"message": str(exc)}}


def notice_text(body: Mapping[str, Any], m: Messages) -> str:
    """A kept refusal or error, in ``m``'s language."""
    key, values = body.get("key"), dict(body.get("values") or {})
    if not isinstance(key, str):
        return sentence(str(body.get("text", "")))
    if "name" in values and key == "error.date_format":
        values["name"] = m(f"filters.{values['name']}")
    if "message" in values:
        values["message"] = sentence(str(values["message"]))
    return sentence(m(key, **values))


def refusal(exc: FilterError) -> dict[str, Any]:
    """The kept form of a refused filter."""
    return notice_body(exc)


def turn_text(turn: Turn, m: Messages) -> str:
    """What a turn showed, as text (stored with a rating): a written answer's text, the quoted
    answer's, or the notice."""
    if turn.kind == "answer":
        return str(turn.body.get("text", ""))
    return notice_text(turn.body, m)


def assistant_html(turn: Turn, doc_texts: DocTexts, m: Messages) -> str:
    """The assistant's message for a turn."""
    if turn.kind != "answer":
        return notice_html(notice_text(turn.body, m), turn.kind)
    answer = answer_from_dict(turn.body)
    filters = Filters.from_dict(turn.filters)
    return answer_html(
        answer, doc_texts(answer), turn_id=turn.id,
        filters_text=filters.describe(m) if filters.active else None, m=m,
        writing=Writing.of(turn.body),
    )  # fmt: skip


def user_html(question: str) -> str:
    """The user's message."""
    return question_html(question)


def chat_messages(turns: Sequence[Turn], doc_texts: DocTexts, m: Messages) -> list[dict[str, str]]:
    """The chat's messages for these turns: question, then what was shown for it."""
    out: list[dict[str, str]] = []
    for t in turns:
        out.append({"role": "user", "content": user_html(t.question)})
        out.append({"role": "assistant", "content": assistant_html(t, doc_texts, m)})
    return out


def feedback_values(turns: Sequence[Turn], ratings: Mapping[str, int]) -> list[str | None]:
    """The thumbs state to show under each answer: the stored rating."""
    shown = {1: "Like", -1: "Dislike"}
    return [shown.get(ratings.get(t.id, 0)) for t in turns]
