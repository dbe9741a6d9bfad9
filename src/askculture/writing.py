"""Written answers: a language-model server words the extractive answer's evidence.

With ``answer.backend = "llm"`` the extractive reader still finds the evidence (the
:class:`~askculture.answering.Answer` and its verbatim citations); then a server that speaks the
OpenAI chat-completions API (llama.cpp's ``llama-server``, Ollama, vLLM, LM Studio, a hosted
endpoint) is asked, through the ``openai`` client, to answer in the question's language in at
most three sentences, citing the numbered sentences as ``[n]`` — or to reply exactly
:data:`~askculture.gate.NOT_IN_DOCUMENTS`. The reply streams token by token; when it is
complete, :func:`askculture.gate.check` holds it against the quotes.

The user gets the written answer only when it passes. A failed check, a "not in the documents"
while the reader found evidence, a server that cannot be reached, errs, times out or sends
something malformed: the extractive answer is shown, with a one-line notice of why. The
citations (quotes, sources) are the extractive ones either way.

Use::

    for item in stream_reply("Who signed the roadmap with GITIS?", "index"):
        if isinstance(item, str):
            print(item, end="", flush=True)  # a draft: not checked yet
        else:
            reply = item  # the checked Reply: show reply.text, reply.notice, reply.citations
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TypedDict, Unpack

from askculture.answering import Answer, Citation, ask
from askculture.documents import detect_language
from askculture.errors import ConfigError
from askculture.gate import MAX_SENTENCES, NOT_IN_DOCUMENTS, check
from askculture.settings import LLMSettings, Settings

if TYPE_CHECKING:  # the openai client is imported when a written answer is asked for
    import openai
    from openai.types.chat import ChatCompletionMessageParam

Backend = Literal["extractive", "llm"]
Fallback = Literal["gate", "not_in_documents", "timeout", "connection", "http_error", "malformed"]
LANGUAGES = {"en": "English", "ru": "Russian (русский)", "kk": "Kazakh (қазақ тілі)"}


@dataclass
class Reply:
    """What the user is shown: a written answer that passed the quote check, or the quotes.

    Attributes:
        answer: The extractive answer: its citations (verbatim quotes) and passages are shown
            with either text.
        text: The text to show: the checked written answer (``[n]`` markers name
            ``answer.citations``), or ``answer.text``.
        backend: The backend asked for: "extractive" or "llm".
        written: True when ``text`` was written by the model (and passed the check).
        notice: One line saying why a written answer is not shown (None otherwise).
        fallback: The kind of that failure: "gate", "not_in_documents", "timeout",
            "connection", "http_error" or "malformed" (None when written or not attempted).
        model: The model asked (None for the extractive backend).
        draft: The model's text as it came, before the check (never show it as an answer).
        first_token_ms: From the request to the first written token.
        write_ms: From the request to the end of the written text.
    """

    answer: Answer
    text: str
    backend: Backend
    written: bool = False
    notice: str | None = None
    fallback: Fallback | None = None
    model: str | None = None
    draft: str = ""
    first_token_ms: float | None = None
    write_ms: float | None = None

    @property
    def citations(self) -> list[Citation]:
        """The extractive answer's citations (the same whether written or not)."""
        return self.answer.citations

    @property
    def abstained(self) -> bool:
        """True when the documents hold no evidence (nothing was written)."""
        return self.answer.abstained

    @property
    def attempted(self) -> bool:
        """True when the model was asked to write."""
        return self.written or self.fallback is not None

    def to_dict(self) -> dict[str, object]:
        """The extractive answer's dict, with the shown text and how it was made.

        Keys beyond :meth:`Answer.to_dict`: ``written``, ``backend``, ``notice``, ``fallback``,
        ``model``, ``quoted_text`` (the extractive text), ``first_token_ms``, ``write_ms``.
        """
        data = self.answer.to_dict()
        data.update(
            text=self.text, written=self.written, backend=self.backend, notice=self.notice,
            fallback=self.fallback, model=self.model, quoted_text=self.answer.text,
            first_token_ms=self.first_token_ms, write_ms=self.write_ms,
        )  # fmt: skip
        return data


_EXAMPLE = (
    [(1, "2024-03-02", "В Караганде открылась выставка художника Армана Сейткали."),
     (2, "2024-03-02", "The exhibition will run until 15 April.")],
    "Whose exhibition opened in Karaganda, and until when does it run?",
    "An exhibition of the artist Arman Seitkali opened in Karaganda [1]. It runs until "
    "15 April [2].",
)  # fmt: skip
"""A worked example shown to the model before the question (invented: copying it fails the
quote check, since its names and dates are in no document)."""


def _ask_for(sentences: list[tuple[int, str, str]], question: str, lang: str) -> str:
    numbered = "\n".join(f"[{n}] ({day}) {text}" for n, day, text in sentences)
    return f"Sentences:\n{numbered}\n\nQuestion: {question}\n\nAnswer in {lang}:"


def build_messages(answer: Answer) -> list[ChatCompletionMessageParam]:
    """The chat messages that ask for a written answer to ``answer.question``.

    The rules (the question's language, at most three sentences, ``[n]`` after each, only the
    sentences' names, numbers and dates, or exactly :data:`NOT_IN_DOCUMENTS`), one worked
    example, then the evidence: the answer's citations numbered as they are (``Citation.n``),
    each with its document's date, and the question.
    """
    lang = LANGUAGES.get(detect_language(answer.question) or "en", "English")
    system = (
        "You answer questions using only the numbered sentences you are given, which are "
        "quoted from official documents. Rules:\n"
        f"1. Write in the language of the question.\n"
        f"2. Write at most {MAX_SENTENCES} short sentences.\n"
        "3. End every sentence with the numbers of the sentences it relies on in square "
        "brackets, like [1] or [1][2].\n"
        "4. Use only names, numbers and dates that appear in those sentences; write names as "
        "they are written there or transliterated.\n"
        f"5. If the sentences do not answer the question, reply exactly: {NOT_IN_DOCUMENTS}"
    )
    example, example_question, example_answer = _EXAMPLE
    quotes = [(c.n, c.date or "undated", " ".join(c.quote.split())) for c in answer.citations]
    question = answer.question.strip()
    if answer.query and answer.query.strip() != question:
        question += f"\n(In context: {answer.query.strip()})"
    return [
        {"role": "system", "content": system},
        {"role": "user", "content": _ask_for(example, example_question, "English")},
        {"role": "assistant", "content": example_answer},
        {"role": "user", "content": _ask_for(quotes, question, lang)},
    ]


@functools.lru_cache(maxsize=8)
def _client(base_url: str, api_key: str, timeout_s: float) -> openai.OpenAI:
    import openai

    return openai.OpenAI(base_url=base_url, api_key=api_key, timeout=timeout_s, max_retries=0)


def client_for(llm: LLMSettings) -> openai.OpenAI:
    """The ``openai`` client for the configured server (one per base URL, key and timeout).

    No retries: a failed request falls back to the quoted answer at once. The key is never taken
    from ``OPENAI_API_KEY``: without ``llm.api_key`` a placeholder is sent (local servers
    ignore it).
    """
    key = llm.api_key.get_secret_value() if llm.api_key else "not-needed"
    return _client(llm.base_url.rstrip("/"), key, llm.timeout_s)


def model_name(llm: LLMSettings) -> str:
    """The model to ask for written answers (``llm.model``; a server checks it at start).

    Raises:
        ConfigError: ``llm.model`` is not set.
    """
    if not llm.model:
        raise ConfigError(
            "answer.backend=llm needs the model's name: set llm.model (ASKCULTURE_LLM__MODEL)"
        )
    return llm.model


class _Deadline(Exception):
    """The written answer took longer than ``llm.timeout_s``."""


def stream_written(answer: Answer, settings: Settings | None = None) -> Iterator[str | Reply]:
    """Write the answer from its evidence, streaming: text deltas, then the checked :class:`Reply`.

    The deltas are the model's draft as it arrives (for a live display); only the final
    :class:`Reply` says what may be shown as the answer. Nothing is written when the backend is
    "extractive" or the answer abstained (no evidence): the one item is the quoted answer.

    Args:
        answer: The extractive answer (from :func:`askculture.ask`).
        settings: Settings (default: from the environment); ``answer.backend`` and ``llm``.

    Yields:
        ``str`` deltas, then exactly one :class:`Reply`, last.

    Raises:
        ConfigError: ``answer.backend`` is "llm" but ``llm.model`` is not set.
    """
    settings = settings or Settings()
    backend = settings.answer.backend
    if backend == "extractive" or answer.abstained or not answer.citations:
        yield Reply(answer, answer.text, backend)
        return
    llm = settings.llm
    model = model_name(llm)
    parts: list[str] = []
    started = time.perf_counter()
    first: float | None = None

    def ms(since: float) -> float:
        return round((time.perf_counter() - since) * 1000, 1)

    def fallback(kind: Fallback, why: str) -> Reply:
        return Reply(
            answer, answer.text, backend, False, f"Shown as quotes: {why}.", kind, llm.model,
            "".join(parts), first, ms(started),
        )  # fmt: skip

    try:
        stream = client_for(llm).chat.completions.create(
            model=model,
            messages=build_messages(answer),
            max_tokens=llm.max_tokens,
            temperature=llm.temperature,
            stream=True,
            stop=["\nQuestion:", "\nSentences:"],  # a model repeating the prompt's pattern
            extra_body=llm.extra_body or None,
        )
        with stream:
            for chunk in stream:
                if time.perf_counter() - started > llm.timeout_s:
                    raise _Deadline
                delta = chunk.choices[0].delta.content if chunk.choices else None
                if delta:
                    if first is None:
                        first = ms(started)
                    parts.append(delta)
                    yield delta
    except Exception as exc:  # the server is outside: _failure sorts what it can send
        kind, why = _failure(exc, llm, midway=bool(parts))
        yield fallback(kind, why)
        return
    draft = "".join(parts)
    verdict = check(draft, answer.citations, answer.question)
    if verdict.not_in_documents:
        yield fallback("not_in_documents", "the model found no answer in the quotes below")
    elif not verdict.passed:
        if not draft.strip():
            yield fallback("malformed", "the language-model server sent an empty answer")
        else:
            yield fallback("gate", f"the written answer failed the quote check: {verdict.reason}")
    else:
        yield Reply(
            answer, verdict.text, backend, True, None, None, llm.model, draft, first, ms(started)
        )


def _failure(exc: Exception, llm: LLMSettings, *, midway: bool) -> tuple[Fallback, str]:
    """Sort an exception from the server's side into a fallback kind and a notice.

    ``midway``: some of the answer had arrived (a connection lost then broke off).

    Raises:
        Exception: ``exc`` itself when it is none of the server's failures (a bug here).
    """
    import openai

    server = f"the language-model server ({llm.base_url})"
    if isinstance(exc, (_Deadline, openai.APITimeoutError)):
        verb = "finish the answer" if midway else "answer"
        return "timeout", f"{server} did not {verb} within {llm.timeout_s:g} s"
    if isinstance(exc, openai.APIStatusError):
        return "http_error", f"{server} answered HTTP {exc.status_code}"
    if isinstance(exc, openai.APIConnectionError):
        if midway:
            return "connection", f"the connection to {server} broke off mid-answer"
        return "connection", f"{server} could not be reached"
    if isinstance(exc, openai.APIError):
        return "malformed", f"{server} reported an error: {exc.message[:120]}"
    if isinstance(
        exc, (json.JSONDecodeError, openai.APIResponseValidationError, AttributeError,
              IndexError, KeyError, TypeError, ValueError),
    ):  # fmt: skip
        return "malformed", f"{server} sent a malformed reply ({type(exc).__name__})"
    raise exc


def write(answer: Answer, settings: Settings | None = None) -> Reply:
    """:func:`stream_written` without the stream: the checked :class:`Reply`."""
    result: Reply | None = None
    for item in stream_written(answer, settings):
        if isinstance(item, Reply):
            result = item
    assert result is not None  # stream_written always ends with a Reply
    return result


class AskOptions(TypedDict, total=False):
    """The optional arguments of :func:`askculture.ask` (history and filters)."""

    history: list[tuple[str, str]] | None
    date_from: str | date | None
    date_to: str | date | None
    lang: str | list[str] | None
    source: str | list[str] | None


def stream_reply(
    question: str,
    index_dir: str | Path | None = None,
    *,
    settings: Settings | None = None,
    **options: Unpack[AskOptions],
) -> Iterator[str | Reply]:
    """Answer a question, streaming the written answer: :func:`askculture.ask`, then writing.

    The arguments are those of :func:`askculture.ask` (history and filters by keyword). Errors
    of the question, the filters or the index are raised before anything is yielded.

    Yields:
        ``str`` deltas of the model's draft, then the checked :class:`Reply`.
    """
    settings = settings or Settings()
    yield from stream_written(ask(question, index_dir, settings=settings, **options), settings)


def reply(
    question: str,
    index_dir: str | Path | None = None,
    *,
    settings: Settings | None = None,
    **options: Unpack[AskOptions],
) -> Reply:
    """Answer a question with the configured backend (:func:`stream_reply` without the stream)."""
    settings = settings or Settings()
    return write(ask(question, index_dir, settings=settings, **options), settings)


__all__ = [
    "LANGUAGES",
    "AskOptions",
    "Backend",
    "Fallback",
    "Reply",
    "build_messages",
    "client_for",
    "model_name",
    "reply",
    "stream_reply",
    "stream_written",
    "write",
]
