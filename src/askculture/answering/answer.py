"""What an answer is: text with ``[n]`` markers and its citations, each a verbatim quote.

A :class:`Citation` cannot be built with a quote that is not exactly the cited document's text
at its offsets; :func:`make_citation` cuts quotes out of the document so that they always are.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from askculture.errors import AskCultureError
from askculture.retrieval import Passage


class CitationError(AskCultureError):
    """A quote that is not verbatim in the document it cites (a bug, never shown to users)."""


@dataclass(frozen=True, slots=True)
class Citation:
    """One numbered source of an answer, with the exact quoted text and where it stands.

    ``quote`` is ``document.text[start:end]`` of the cited document; :func:`make_citation` is the
    way to build one, and it refuses spans that are empty or outside the document.
    """

    n: int
    doc_id: str
    title: str
    date: str | None
    source: str | None
    url: str | None
    path: str
    lang: str | None
    quote: str
    start: int
    end: int

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end or len(self.quote) != self.end - self.start:
            raise CitationError(
                f"citation [{self.n}]: quote of {len(self.quote)} characters does not fit its "
                f"offsets {self.start}:{self.end}"
            )
        if not self.quote.strip():
            raise CitationError(f"citation [{self.n}]: empty quote")

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict."""
        return asdict(self)


@dataclass
class Answer:
    """The answer to a question: text with ``[n]`` markers, its citations and passages.

    Attributes:
        question: The question as asked.
        text: The answer: quoted sentences with ``[n]`` markers, then the sources' dates; or,
            when ``abstained``, a statement that the documents do not answer, with the closest
            documents.
        citations: The numbered sources, each with its verbatim quote and offsets.
        abstained: True when no retrieved sentence supports an answer.
        passages: The retrieved passages, documents cited first.
        query: The question actually searched for (a follow-up resolved with its history).
        short_answer: When the question asks for a name, date, number or place and the leading
            quote holds it: that short answer, verbatim from the quote (else None).
        short_answer_n: The citation number whose quote holds ``short_answer``.
    """

    question: str
    text: str
    citations: list[Citation] = field(default_factory=list)
    abstained: bool = False
    passages: list[Passage] = field(default_factory=list)
    query: str = ""
    short_answer: str | None = None
    short_answer_n: int | None = None

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict."""
        return {
            "question": self.question,
            "text": self.text,
            "abstained": self.abstained,
            "citations": [c.to_dict() for c in self.citations],
            "passages": [p.to_dict() for p in self.passages],
            "query": self.query,
            "short_answer": self.short_answer,
            "short_answer_n": self.short_answer_n,
        }


def make_citation(n: int, passage: Passage, doc_text: str, start: int, end: int) -> Citation:
    """Build a citation, cutting its quote out of the document text.

    Args:
        n: Citation number.
        passage: A passage of the cited document (for its metadata).
        doc_text: The full text of the cited document.
        start: Quote start offset in ``doc_text``.
        end: Quote end offset in ``doc_text``.

    Returns:
        The citation; its ``quote`` is ``doc_text[start:end]``.

    Raises:
        CitationError: The offsets are out of range or select only whitespace.
    """
    if not 0 <= start < end <= len(doc_text):
        raise CitationError(f"quote offsets {start}:{end} outside {passage.title!r}")
    quote = doc_text[start:end]
    if not quote.strip():
        raise CitationError("empty quote")
    return Citation(
        n=n,
        doc_id=passage.doc_id,
        title=passage.title,
        date=passage.date,
        source=passage.source,
        url=passage.url,
        path=passage.path,
        lang=passage.lang,
        quote=quote,
        start=start,
        end=end,
    )


def verify_citation(citation: Citation, doc_text: str) -> bool:
    """True when ``citation.quote`` stands verbatim at its offsets in ``doc_text``."""
    return doc_text[citation.start : citation.end] == citation.quote
