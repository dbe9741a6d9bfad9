"""Answers → safe HTML for the web chat, in the interface language.

Everything that comes from a document or a user (titles, quotes, passages, questions, URLs) goes
through :func:`esc` before it is put into HTML. :func:`esc` escapes HTML *and* every character
that Markdown or LaTeX could interpret, so the fragments stay inert text whether the component
showing them renders HTML or Markdown. Only ``http(s)`` URLs become links.

The page is built from the structured :class:`~askculture.answering.Answer` (its citations, short
answer and abstention) with the words around them from the message catalogue;
``Answer.text`` (English) is not read. A written answer (``Reply.text``: the model's words in the
question's language, checked against the quotes) is shown above the quotes, its ``[n]`` markers
as links to the sources, with a marker saying which model wrote it.
"""

from __future__ import annotations

import html
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from askculture.answering import Answer, Citation
from askculture.retrieval import Passage
from askculture.web.answer_view import Line, answer_lines
from askculture.web.i18n import Messages
from askculture.web.written import Writing

if TYPE_CHECKING:
    from askculture.writing import Reply

LANGUAGE_NAMES = {"en": "English", "ru": "Русский", "kk": "Қазақша"}
"""Display names of the corpus languages (each in its own language)."""

CONTEXT_CHARS = 360
"""At most this many characters of context on each side of a highlighted quote."""

_ESCAPES = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}
    | {c: f"&#{ord(c)};" for c in "\\`*_{}[]()#+-!|~$:=^"}
    | {"\r": "", "\n": "<br>"}
)
_SPACES = re.compile(r"\s+")
_MARK = re.compile(r"\[(\d{1,3})\]")


def esc(text: object) -> str:
    """Escape text for HTML and Markdown: the result shows the characters and does nothing else.

    Newlines become ``<br>`` so that a fragment never contains a blank line (which would end a
    raw HTML block in Markdown).
    """
    return str(text).translate(_ESCAPES)


def attr(text: object) -> str:
    """Escape text for an HTML attribute value (in double quotes)."""
    return html.escape(str(text), quote=True)


def safe_url(url: str | None) -> str | None:
    """The URL if it is a plain ``http(s)`` address, else ``None`` (never ``javascript:``)."""
    if not url:
        return None
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in {"http", "https"} or not parts.netloc:
        return None
    if any(c.isspace() or c in "<>\"'`" for c in url):
        return None
    return url


def link(url: str | None, label: str | None = None) -> str:
    """An ``<a>`` opening ``url`` in a new tab, or the escaped text when it is no web URL."""
    good = safe_url(url)
    if good is None:
        return esc(url or "")
    text = label if label is not None else _short_url(good)
    return (
        f'<a href="{attr(good)}" target="_blank" rel="noopener noreferrer nofollow">{esc(text)}</a>'
    )


def _short_url(url: str) -> str:
    parts = urlsplit(url)
    path = parts.path if len(parts.path) <= 48 else parts.path[:45] + "…"
    return (parts.netloc.removeprefix("www.") + path).rstrip("/")


def language_name(code: str | None, m: Messages | None = None) -> str:
    """``"en"`` → ``"English"`` (each language by its own name); missing → "unknown language"."""
    if not code:
        return (m or Messages())("answer.unknown_language")
    return LANGUAGE_NAMES.get(code, code)


def flat(text: str) -> str:
    """Text on one line (runs of white space become one space)."""
    return _SPACES.sub(" ", text)


def status_html(status: Mapping[str, Any], m: Messages | None = None) -> str:
    """The index status line: building (with progress), loading, ready or error."""
    m = m or Messages()
    phase = status.get("phase")
    if phase == "ready":
        langs = " · ".join(
            f"{language_name(k, m)} {v}" for k, v in (status.get("languages") or {}).items()
        )
        text = m(
            "status.ready", documents=status.get("documents", 0), languages=langs,
            model=status.get("model", ""),
        )  # fmt: skip
        return f'<div class="ac-status ac-ready">{esc(text)}</div>'
    if phase == "building":
        done, total = int(status.get("done") or 0), int(status.get("total") or 0)
        if total:
            what = esc(m("status.files", done=done, total=total, current=status.get("current", "")))
            what += f' <progress max="{total}" value="{done}"></progress>'
        else:
            what = esc(status.get("message") or m("status.preparing"))
        if status.get("started"):
            what += f" · {time.time() - float(status['started']):.0f} s"
        return (
            f'<div class="ac-status ac-building">{esc(m("status.building", what="")) + what}</div>'
        )
    if phase == "error":
        text = m("status.error", message=status.get("message", ""))
        return f'<div class="ac-status ac-error" role="alert">{esc(text)}</div>'
    text = m("status.loading") if phase == "loading" else m("status.starting")
    return f'<div class="ac-status ac-loading">{esc(text)}</div>'


@dataclass
class Context:
    """A quote inside its surrounding text: ``before`` + ``quote`` + ``after``."""

    before: str
    quote: str
    after: str
    cut_before: bool = False
    cut_after: bool = False


def quote_context(doc_text: str | None, citation: Citation, chars: int = CONTEXT_CHARS) -> Context:
    """The quote with the rest of its paragraph (at most ``chars`` on each side).

    Args:
        doc_text: Full text of the cited document; ``None`` shows the quote alone.
        citation: The citation whose quote to place.
        chars: Context limit on each side.
    """
    if doc_text is None or doc_text[citation.start : citation.end] != citation.quote:
        return Context("", citation.quote, "")
    start, end = citation.start, citation.end
    para_start = doc_text.rfind("\n\n", 0, start)
    para_start = 0 if para_start < 0 else para_start + 2
    para_end = doc_text.find("\n\n", end)
    para_end = len(doc_text) if para_end < 0 else para_end
    lo, hi = max(para_start, start - chars), min(para_end, end + chars)
    if lo > para_start:  # start the context at a word boundary
        space = doc_text.find(" ", lo, start)
        lo = space + 1 if space >= 0 else lo
    if hi < para_end:
        space = doc_text.rfind(" ", end, hi)
        hi = space if space >= 0 else hi
    return Context(
        doc_text[lo:start], citation.quote, doc_text[end:hi], lo > para_start, hi < para_end
    )


def quote_mark(quote: str, m: Messages) -> str:
    """A highlighted quote: marked, underlined (CSS), and announced to screen readers."""
    return (
        f'<span class="ac-sr">{esc(m("answer.quote_start"))} </span>'
        f'<mark class="ac-quote">{esc(quote)}</mark>'
        f'<span class="ac-sr"> {esc(m("answer.quote_end"))}</span>'
    )


def meta_line(
    date: str | None,
    source: str | None,
    lang: str | None,
    url: str | None,
    path: str,
    m: Messages,
) -> str:
    """Date · publisher · language · link (or file name) of a document."""
    parts = [
        f'<span class="ac-date">{esc(date or m("answer.undated"))}</span>',
        f'<span class="ac-publisher">{esc(source or m("answer.unknown_publisher"))}</span>',
        f'<span class="ac-lang">{esc(language_name(lang, m))}</span>',
    ]
    good = safe_url(url)
    parts.append(link(good) if good else f'<span class="ac-path">{esc(Path(path).name)}</span>')
    return '<div class="ac-meta">' + " · ".join(parts) + "</div>"


def source_anchor(turn_id: str, n: int) -> str:
    """The element id of source ``n`` of a turn (unique on the page)."""
    return f"ac-src-{turn_id[:12]}-{n}"


def open_button(anchor: str, m: Messages) -> str:
    """The button that opens the document of source ``anchor`` in the viewer (the page's
    sanitiser keeps ids but not data attributes: the id names the turn and the citation)."""
    button_id = anchor.replace("ac-src-", "ac-open-", 1)
    return (
        f'<button type="button" class="ac-open" id="{attr(button_id)}">'
        f"{esc(m('answer.open_document'))}</button>"
    )


def citation_html(citation: Citation, doc_text: str | None, anchor: str, m: Messages) -> str:
    """One cited document: number, title, date, publisher, language, link, highlighted passage."""
    ctx = quote_context(doc_text, citation)
    passage = (
        ("…" if ctx.cut_before else "")
        + esc(flat(ctx.before))
        + quote_mark(flat(ctx.quote), m)
        + esc(flat(ctx.after))
        + ("…" if ctx.cut_after else "")
    )
    button = open_button(anchor, m) if doc_text else ""
    return (
        f'<div class="ac-source" id="{anchor}" tabindex="-1">'
        f'<div class="ac-source-title"><span class="ac-n">&#91;{citation.n}&#93;</span> '
        f"<strong>{esc(citation.title)}</strong></div>"
        + meta_line(citation.date, citation.source, citation.lang, citation.url, citation.path, m)
        + f'<blockquote class="ac-passage">{passage}</blockquote>{button}</div>'
    )


def cite_link(n: int, turn_id: str, m: Messages) -> str:
    """A ``[n]`` marker that jumps to (and highlights) its source card."""
    return (
        f'<a class="ac-cite" href="#{source_anchor(turn_id, n)}" '
        f'aria-label="{attr(m("answer.go_to_source", n=n))}">&#91;{n}&#93;</a>'
    )


def _snippet(text: str, chars: int = 200) -> str:
    one = flat(text).strip()
    if len(one) <= chars:
        return one
    cut = one.rfind(" ", 0, chars)
    return one[: cut if cut > chars // 2 else chars] + "…"


def closest_documents(answer: Answer, limit: int = 3) -> list[dict[str, Any]]:
    """The distinct documents of an answer's passages, best first (for abstentions)."""
    seen: dict[str, dict[str, Any]] = {}
    for p in answer.passages:
        if p.doc_id not in seen:
            seen[p.doc_id] = {
                "doc_id": p.doc_id, "title": p.title, "date": p.date, "source": p.source,
                "lang": p.lang, "url": p.url, "path": p.path, "snippet": _snippet(p.text),
            }  # fmt: skip
        if len(seen) == limit:
            break
    return list(seen.values())


def _line_html(line: Line, answer: Answer, turn_id: str, m: Messages, lead: bool) -> str:
    by_n = {c.n: c for c in answer.citations}
    marks = "".join(cite_link(n, turn_id, m) for n in line.numbers if n in by_n)
    c = by_n.get(line.main) if line.main is not None else None
    if c is None:
        return ""
    note = ""
    if c.lang and c.lang != m.lang:
        note = f' <span class="ac-lang-note">({esc(language_name(c.lang, m))})</span>'
    cls = "ac-line ac-lead" if lead else "ac-line"
    return f'<p class="{cls}">{esc(flat(c.quote))}{note} {marks}</p>'


def written_html(text: str, answer: Answer, turn_id: str, m: Messages) -> str:
    """A checked written answer: its text escaped, each ``[n]`` a link to its source card."""
    numbers = {c.n for c in answer.citations}
    out, cut = [], 0
    for mark in _MARK.finditer(text):
        n = int(mark.group(1))
        out.append(esc(text[cut : mark.start()]))
        out.append(cite_link(n, turn_id, m) if n in numbers else esc(mark.group(0)))
        cut = mark.end()
    return "".join(out) + esc(text[cut:])


def draft_html(draft: str, m: Messages) -> str:
    """The written answer while it streams in: plain text, marked as not yet checked (and
    pending: not an answer yet)."""
    return (
        '<div class="ac-draft ac-pending" aria-busy="true">'
        f'<div class="ac-draft-label">{esc(m("written.draft"))}</div>'
        f'<p class="ac-draft-text">{esc(draft.strip())}</p></div>'
    )


def _quoted_html(answer: Answer, turn_id: str, m: Messages, writing: Writing) -> list[str]:
    """The answer's lines: the written text with its marker, or the direct answer; the quotes."""
    parts = []
    by_n = {c.n: c for c in answer.citations}
    short = answer.short_answer if answer.short_answer_n in by_n else None
    if writing.written:
        parts.append(
            f'<div class="ac-written"><p class="ac-line ac-lead">'
            f"{written_html(writing.text, answer, turn_id, m)}</p>"
            f'<div class="ac-written-mark">{esc(writing.marker(m))}</div></div>'
        )
    elif short:
        parts.append(
            f'<div class="ac-direct"><span class="ac-direct-label">{esc(m("answer.direct"))}'
            f'</span> <strong class="ac-short">{esc(short)}</strong> '
            f"{cite_link(int(answer.short_answer_n or 0), turn_id, m)}</div>"
        )
    fallback = writing.fallback_text(m)
    if fallback:
        title = f' title="{attr(writing.notice)}"' if writing.notice else ""
        parts.append(f'<div class="ac-fallback" role="note"{title}>{esc(fallback)}</div>')
    lines = answer_lines(answer)
    first_quote = next((i for i, x in enumerate(lines) if x.kind == "quote"), -1)
    lead = not answer.short_answer and not writing.written
    body = [
        _line_html(x, answer, turn_id, m, lead=lead and i == first_quote)
        for i, x in enumerate(lines)
    ]
    heading = f'<div class="ac-heading">{esc(m("answer.quotes"))}</div>' if writing.written else ""
    parts.append(f'<div class="ac-text">{heading}{"".join(body)}</div>')
    return parts


def answer_html(
    answer: Answer,
    doc_texts: Mapping[str, str | None],
    *,
    turn_id: str,
    filters_text: str | None = None,
    m: Messages | None = None,
    writing: Writing | None = None,
) -> str:
    """The assistant's chat message: the answer (written or direct), quoted lines with markers,
    then sources.

    Args:
        answer: The answer.
        doc_texts: Full text of each cited document by id (missing → quote shown alone).
        turn_id: Identifies the turn (makes element ids unique on the page).
        filters_text: The filters the question was asked with, described (shown under it).
        m: The interface language's messages.
        writing: How the answer was worded (default: quoted): a written answer is shown above
            its quotes with a marker; a refused one as a one-line notice.
    """
    m = m or Messages()
    writing = writing or Writing()
    classes = (
        " ac-abstained" if answer.abstained else " ac-written-answer" if writing.written else ""
    )
    parts = [f'<div class="ac-answer{classes}">']
    if answer.abstained:
        parts.append(f'<div class="ac-badge">{esc(m("answer.no_answer"))}</div>')
        text = m("answer.no_answer_text") if answer.passages else m("answer.nothing_matched")
        parts.append(f'<div class="ac-text"><p class="ac-line">{esc(text)}</p></div>')
    else:
        parts += _quoted_html(answer, turn_id, m, writing)
    if answer.citations:
        parts.append(
            f'<div class="ac-sources"><div class="ac-heading">{esc(m("answer.sources"))}</div>'
        )
        for c in answer.citations:
            anchor = source_anchor(turn_id, c.n)
            parts.append(citation_html(c, doc_texts.get(c.doc_id), anchor, m))
        parts.append("</div>")
    elif answer.abstained:
        docs = closest_documents(answer)
        if docs:
            parts.append(
                f'<div class="ac-sources"><div class="ac-heading">{esc(m("answer.closest"))}</div>'
            )
            for d in docs:
                parts.append(
                    f'<div class="ac-source ac-closest"><div class="ac-source-title">'
                    f"<strong>{esc(d['title'])}</strong></div>"
                    + meta_line(d["date"], d["source"], d["lang"], d["url"], d["path"], m)
                    + f'<div class="ac-snippet">{esc(d["snippet"])}</div></div>'
                )
            parts.append("</div>")
    if filters_text:
        parts.append(
            f'<div class="ac-filters">{esc(m("filters.applied", what=filters_text))}</div>'
        )
    parts.append("</div>")
    return "".join(parts)


def question_html(question: str, limit: int = 600) -> str:
    """The user's chat message, escaped (and shortened when very long)."""
    shown = question if len(question) <= limit else question[:limit] + "…"
    return f'<div class="ac-question">{esc(shown)}</div>'


def notice_html(message: str, kind: str = "info") -> str:
    """A short assistant notice (refusal, error, index still building)."""
    role = ' role="alert"' if kind in {"refused", "error"} else ""
    return f'<div class="ac-notice ac-{esc(kind)}"{role}>{esc(message)}</div>'


def document_html(
    title: str,
    meta: str,
    text: str,
    start: int,
    end: int,
    m: Messages,
) -> str:
    """A whole document for the viewer: its text (escaped), the quote ``start:end`` highlighted."""
    if not 0 <= start < end <= len(text):
        start = end = 0
    body = esc(text[:start]) + (
        f'<mark class="ac-quote" id="ac-doc-quote">{esc(text[start:end])}</mark>' if end else ""
    )
    body += esc(text[end:])
    return (
        f'<div class="ac-doc"><h2 class="ac-doc-title">{esc(title)}</h2>{meta}'
        f'<div class="ac-doc-text">{body}</div></div>'
    )


def answer_json(result: Answer | Reply) -> dict[str, Any]:
    """The answer's dict for the web API: ``path`` becomes ``file``, the bare file name.

    A :class:`~askculture.writing.Reply` adds how it was worded (``written``, ``backend``,
    ``model``, ``notice``, ``fallback``, ``quoted_text``, ``first_token_ms``, ``write_ms``);
    ``text`` is what is shown. (``gradio_client`` downloads every dict with a ``path`` key as a
    file, and server paths are nobody's business.)
    """
    data = result.to_dict()
    for key in ("citations", "passages"):
        items: list[dict[str, Any]] = data[key]  # type: ignore[assignment]
        for item in items:
            item["file"] = Path(str(item.pop("path"))).name
    return data


def answer_from_dict(data: Mapping[str, Any]) -> Answer:
    """Rebuild an :class:`Answer` from :meth:`Answer.to_dict` (or ``Reply.to_dict``) output."""
    return Answer(
        question=str(data["question"]), text=str(data.get("quoted_text") or data["text"]),
        citations=[Citation(**c) for c in data.get("citations", [])],
        abstained=bool(data.get("abstained")),
        passages=[Passage(**p) for p in data.get("passages", [])],
        query=str(data.get("query") or ""),
        short_answer=data.get("short_answer"), short_answer_n=data.get("short_answer_n"),
    )  # fmt: skip
