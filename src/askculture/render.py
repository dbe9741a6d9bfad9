"""Answers → safe HTML for the web chat, and Markdown for journalists.

Everything that comes from a document or a user (titles, quotes, passages, questions, URLs) goes
through :func:`esc` before it is put into HTML. :func:`esc` escapes HTML *and* every character
that Markdown or LaTeX could interpret, so the fragments stay inert text whether the component
showing them renders HTML or Markdown. Only ``http(s)`` URLs become links.
"""

from __future__ import annotations

import html
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from askculture.answering import Answer, Citation
from askculture.errors import ConfigError
from askculture.retrieval import Passage

LANGUAGE_NAMES = {"en": "English", "ru": "Русский", "kk": "Қазақша"}
"""Display names of the corpus languages."""

CONTEXT_CHARS = 360
"""At most this many characters of context on each side of a highlighted quote."""

_ESCAPES = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}
    | {c: f"&#{ord(c)};" for c in "\\`*_{}[]()#+-!|~$:=^"}
    | {"\r": "", "\n": "<br>"}
)
_MARKER = re.compile(r"\[(\d{1,3})\]")
_SPACES = re.compile(r"\s+")
_DATE = re.compile(r"\d{4}(-\d{2}(-\d{2})?)?")


def esc(text: object) -> str:
    """Escape text for HTML and Markdown: the result shows the characters and does nothing else.

    Newlines become ``<br>`` so that a fragment never contains a blank line (which would end a
    raw HTML block in Markdown).
    """
    return str(text).translate(_ESCAPES)


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
        f'<a href="{html.escape(good, quote=True)}" target="_blank" '
        f'rel="noopener noreferrer nofollow">{esc(text)}</a>'
    )


def _short_url(url: str) -> str:
    parts = urlsplit(url)
    path = parts.path if len(parts.path) <= 48 else parts.path[:45] + "…"
    return (parts.netloc.removeprefix("www.") + path).rstrip("/")


def language_name(code: str | None) -> str:
    """``"en"`` → ``"English"``; unknown or missing → the code or ``"unknown language"``."""
    if not code:
        return "unknown language"
    return LANGUAGE_NAMES.get(code, code)


@dataclass(frozen=True)
class Filters:
    """The filters a question was asked with (empty = no restriction)."""

    date_from: str = ""
    date_to: str = ""
    languages: tuple[str, ...] = ()
    publishers: tuple[str, ...] = ()

    @property
    def active(self) -> bool:
        """True when any filter restricts the search."""
        return bool(self.date_from or self.date_to or self.languages or self.publishers)

    def describe(self) -> str:
        """A one-line plain-text summary, e.g. ``"dates 2024 – any · languages: en, ru"``."""
        if not self.active:
            return "none (all dates, languages and publishers)"
        parts = []
        if self.date_from or self.date_to:
            parts.append(f"dates {self.date_from or 'any'} – {self.date_to or 'any'}")
        if self.languages:
            parts.append("languages: " + ", ".join(language_name(x) for x in self.languages))
        if self.publishers:
            parts.append("publishers: " + "; ".join(self.publishers))
        return " · ".join(parts)

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict."""
        return {
            "date_from": self.date_from or None,
            "date_to": self.date_to or None,
            "languages": list(self.languages),
            "publishers": list(self.publishers),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Filters:
        """Inverse of :meth:`to_dict`."""
        return cls(
            str(data.get("date_from") or ""),
            str(data.get("date_to") or ""),
            tuple(data.get("languages") or ()),
            tuple(data.get("publishers") or ()),
        )


def _check_date(value: str | None, name: str) -> str:
    text = (value or "").strip()
    if not text:
        return ""
    padded = text + "-01-01"[len(text) - 4 :] if len(text) < 10 else text
    try:
        if _DATE.fullmatch(text) and date.fromisoformat(padded):
            return text
    except ValueError:
        pass
    raise ConfigError(f"the {name} date must look like 2024, 2024-05 or 2024-05-13 (got {text!r})")


def make_filters(
    date_from: str | None = None,
    date_to: str | None = None,
    languages: Sequence[str] | None = None,
    publishers: Sequence[str] | None = None,
) -> Filters:
    """Validate filter inputs; all languages (or none) ticked means no language filter.

    Raises:
        ConfigError: A date is not like ``2024``, ``2024-05`` or ``2024-05-13``, or a language
            is not one of en, ru, kk.
    """
    chosen = [str(x).strip().lower() for x in languages or () if str(x).strip()]
    unknown = [x for x in chosen if x not in LANGUAGE_NAMES]
    if unknown:
        raise ConfigError(f"unknown language {unknown[0]!r}: use en, ru or kk")
    langs = tuple(x for x in LANGUAGE_NAMES if x in chosen)
    if len(langs) == len(LANGUAGE_NAMES):
        langs = ()
    pubs = tuple(str(p).strip() for p in publishers or () if p and str(p).strip())
    return Filters(_check_date(date_from, "From"), _check_date(date_to, "To"), langs, pubs)


def filters_html(
    date_from: str | None,
    date_to: str | None,
    languages: Sequence[str] | None,
    publishers: Sequence[str] | None,
) -> str:
    """The line under the question box that says which filters the next question gets."""
    try:
        text = make_filters(date_from, date_to, languages, publishers).describe()
    except ConfigError as exc:
        return f'<div class="ac-filter-summary ac-invalid">Filters: {esc(exc)}</div>'
    return f'<div class="ac-filter-summary">Filters for the next question: {esc(text)}</div>'


def answer_from_dict(data: Mapping[str, Any]) -> Answer:
    """Rebuild an :class:`Answer` from :meth:`Answer.to_dict` output."""
    return Answer(
        question=str(data["question"]), text=str(data["text"]),
        citations=[Citation(**c) for c in data.get("citations", [])],
        abstained=bool(data.get("abstained")),
        passages=[Passage(**p) for p in data.get("passages", [])],
        short_answer=data.get("short_answer"), short_answer_n=data.get("short_answer_n"),
    )  # fmt: skip


def status_html(status: Mapping[str, Any]) -> str:
    """The index status line: building (with progress), loading, ready or error."""
    phase = status.get("phase")
    if phase == "ready":
        langs = " · ".join(
            f"{esc(language_name(k))} {v}" for k, v in (status.get("languages") or {}).items()
        )
        return (
            f'<div class="ac-status ac-ready">Ready · {status.get("documents", 0)} documents · '
            f"{langs} · model {esc(status.get('model', ''))}</div>"
        )
    if phase == "building":
        done, total = int(status.get("done") or 0), int(status.get("total") or 0)
        if total:
            what = f"{done} of {total} files · {esc(status.get('current', ''))}"
            what += f' <progress max="{total}" value="{done}"></progress>'
        else:
            what = esc(status.get("message") or "preparing…")
        if status.get("started"):
            what += f" · {time.time() - float(status['started']):.0f} s"
        return (
            '<div class="ac-status ac-building">Building the index from the sample corpus '
            f"(first start only): {what}</div>"
        )
    if phase == "error":
        return (
            '<div class="ac-status ac-error">The index is not usable: '
            f"{esc(status.get('message', ''))}</div>"
        )
    return f'<div class="ac-status ac-loading">{esc(status.get("message") or "Starting…")}</div>'


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


def _flat(text: str) -> str:
    return _SPACES.sub(" ", text)


def _meta_line(
    date: str | None, source: str | None, lang: str | None, url: str | None, path: str
) -> str:
    parts = [
        f'<span class="ac-date">{esc(date or "undated")}</span>',
        f'<span class="ac-publisher">{esc(source or "unknown publisher")}</span>',
        f'<span class="ac-lang">{esc(language_name(lang))}</span>',
    ]
    good = safe_url(url)
    parts.append(link(good) if good else f'<span class="ac-path">{esc(Path(path).name)}</span>')
    return '<div class="ac-meta">' + " · ".join(parts) + "</div>"


def citation_html(citation: Citation, doc_text: str | None, anchor: str) -> str:
    """One cited document: number, title, date, publisher, language, link, highlighted passage."""
    ctx = quote_context(doc_text, citation)
    passage = (
        ("…" if ctx.cut_before else "")
        + esc(_flat(ctx.before))
        + f'<mark class="ac-quote">{esc(_flat(ctx.quote))}</mark>'
        + esc(_flat(ctx.after))
        + ("…" if ctx.cut_after else "")
    )
    return (
        f'<div class="ac-source" id="{anchor}">'
        f'<div class="ac-source-title"><span class="ac-n">&#91;{citation.n}&#93;</span> '
        f"<strong>{esc(citation.title)}</strong></div>"
        + _meta_line(citation.date, citation.source, citation.lang, citation.url, citation.path)
        + f'<blockquote class="ac-passage">{passage}</blockquote></div>'
    )


def _answer_text_html(text: str, cited: set[int]) -> str:
    out, pos = [], 0
    for m in _MARKER.finditer(text):
        out.append(esc(text[pos : m.start()]))
        n = int(m.group(1))
        out.append(f'<span class="ac-cite">&#91;{n}&#93;</span>' if n in cited else esc(m.group(0)))
        pos = m.end()
    out.append(esc(text[pos:]))
    return "".join(out)


def _snippet(text: str, chars: int = 200) -> str:
    flat = _flat(text).strip()
    if len(flat) <= chars:
        return flat
    cut = flat.rfind(" ", 0, chars)
    return flat[: cut if cut > chars // 2 else chars] + "…"


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


def answer_html(
    answer: Answer,
    doc_texts: Mapping[str, str | None],
    *,
    turn: int,
    filters: Filters | None = None,
) -> str:
    """The assistant's chat message: answer text with citation markers, then its sources.

    Args:
        answer: The answer.
        doc_texts: Full text of each cited document by id (missing → quote shown alone).
        turn: Number of the turn (makes element ids unique on the page).
        filters: The filters the question was asked with (shown under the answer).
    """
    parts = [f'<div class="ac-answer{" ac-abstained" if answer.abstained else ""}">']
    if answer.abstained:
        parts.append('<div class="ac-badge">No answer found in the documents</div>')
    cited = {c.n for c in answer.citations}
    parts.append(f'<div class="ac-text">{_answer_text_html(answer.text, cited)}</div>')
    if answer.citations:
        parts.append('<div class="ac-sources"><div class="ac-heading">Sources</div>')
        for c in answer.citations:
            parts.append(citation_html(c, doc_texts.get(c.doc_id), f"ac-src-{turn}-{c.n}"))
        parts.append("</div>")
    elif answer.abstained:
        docs = closest_documents(answer)
        if docs:
            parts.append('<div class="ac-sources"><div class="ac-heading">Closest documents</div>')
            for d in docs:
                parts.append(
                    f'<div class="ac-source ac-closest"><div class="ac-source-title">'
                    f"<strong>{esc(d['title'])}</strong></div>"
                    + _meta_line(d["date"], d["source"], d["lang"], d["url"], d["path"])
                    + f'<div class="ac-snippet">{esc(d["snippet"])}</div></div>'
                )
            parts.append("</div>")
    if filters is not None and filters.active:
        parts.append(f'<div class="ac-filters">Filters: {esc(filters.describe())}</div>')
    parts.append("</div>")
    return "".join(parts)


def question_html(question: str, limit: int = 600) -> str:
    """The user's chat message, escaped (and shortened when very long)."""
    shown = question if len(question) <= limit else question[:limit] + "…"
    return f'<div class="ac-question">{esc(shown)}</div>'


def notice_html(message: str, kind: str = "info") -> str:
    """A short assistant notice (refusal, error, index still building)."""
    return f'<div class="ac-notice ac-{esc(kind)}">{esc(message)}</div>'


def _md_text(text: str) -> str:
    """Document text for the Markdown export: inert HTML, otherwise verbatim."""
    return text.replace("<", "&lt;").replace(">", "&gt;")


def answer_markdown(
    answer: Answer, *, filters: Filters | None = None, asked_at: str | None = None
) -> str:
    """The answer with its quotes, sources, dates and URLs as a Markdown document.

    Args:
        answer: The answer.
        filters: The filters it was asked with.
        asked_at: When it was asked (shown in the header line).
    """
    lines = [f"# {_md_text(_flat(answer.question))}", ""]
    about = "Answer from askculture"
    if asked_at:
        about += f", {asked_at}"
    about += f". Filters: {(filters or Filters()).describe()}."
    lines += [f"_{_md_text(about)}_", ""]
    if answer.abstained:
        lines += ["**No answer found in the documents.**", ""]
    lines += [_md_text(answer.text.strip()).replace("\n", "  \n"), ""]  # hard line breaks
    if answer.citations:
        lines += ["## Sources", ""]
        for c in answer.citations:
            lines += _source_md(c.n, c.title, c.source, c.date, c.lang, c.url, c.path)
            quote = "\n".join(f"> {_md_text(x)}".rstrip() for x in c.quote.strip().splitlines())
            lines += [quote, ""]
    elif answer.abstained:
        docs = closest_documents(answer)
        if docs:
            lines += ["## Closest documents", ""]
            for i, d in enumerate(docs, 1):
                lines += _source_md(i, d["title"], d["source"], d["date"], d["lang"], d["url"], d["path"])  # fmt: skip  # noqa: E501
    return "\n".join(lines).rstrip() + "\n"


def _source_md(
    n: int,
    title: str,
    source: str | None,
    date: str | None,
    lang: str | None,
    url: str | None,
    path: str,
) -> list[str]:
    head = f"**[{n}] {_md_text(_flat(title))}**  "
    meta = ", ".join([source or "unknown publisher", date or "undated", language_name(lang)])
    good = safe_url(url)
    where = f"<{good}>" if good else f"File: {_md_text(Path(path).name)}"
    return [head, f"{_md_text(meta)}  ", where, ""]


def answer_json(answer: Answer) -> dict[str, Any]:
    """:meth:`Answer.to_dict` for the web API: ``path`` becomes ``file``, the bare file name.

    (``gradio_client`` downloads every dict with a ``path`` key as a file, and server paths are
    nobody's business.)
    """
    data = answer.to_dict()
    for key in ("citations", "passages"):
        items: list[dict[str, Any]] = data[key]  # type: ignore[assignment]
        for item in items:
            item["file"] = Path(str(item.pop("path"))).name
    return data


HEADER_HTML = (
    '<div class="ac-header"><h1>askculture</h1><p>Cited answers from ministry communications — '
    "press releases, meeting reports, agreements and speeches — in English, Russian and Kazakh. "
    "Every sentence of an answer is quoted from a document.</p></div>"
)
HELP_HTML = (
    '<div class="ac-help">Rate each answer with the thumbs under it; ratings are stored locally '
    "with the question, the answer and its sources. Programs can ask through the API: see "
    "“Use via API” at the bottom of the page.</div>"
)
COPY_JS = """async (md) => {
  if (!md) { return; }
  try { await navigator.clipboard.writeText(md); } catch (e) {
    const t = document.createElement('textarea'); t.value = md; document.body.appendChild(t);
    t.select(); document.execCommand('copy'); t.remove();
  }
}"""
"""Copies the export Markdown to the clipboard (the browser side of "Copy Markdown")."""

CSS = """
.ac-header h1 { font-size: 1.55rem; margin: 0; letter-spacing: -0.01em; }
.ac-header p { margin: 2px 0 0; color: var(--body-text-color-subdued); font-size: .95rem; }
.ac-status { font-size: .82rem; padding: 5px 10px; border-radius: 6px;
  background: var(--background-fill-secondary); color: var(--body-text-color-subdued); }
.ac-status.ac-building { background: #fff7e6; color: #7a4a00; }
.ac-status.ac-building progress { width: 160px; vertical-align: middle; margin-left: 8px; }
.ac-status.ac-error { background: #fdecea; color: #a12622; }
.ac-answer .ac-text { line-height: 1.6; }
.ac-cite { color: var(--color-accent); font-weight: 600; font-size: .85em; white-space: nowrap; }
.ac-badge { display: inline-block; background: #fdecea; color: #a12622; font-weight: 600;
  font-size: .78rem; padding: 1px 8px; border-radius: 10px; margin-bottom: 6px; }
.ac-sources { margin-top: 10px; padding-top: 6px;
  border-top: 1px solid var(--border-color-primary); }
.ac-heading { font-size: .72rem; text-transform: uppercase; letter-spacing: .07em;
  color: var(--body-text-color-subdued); margin: 2px 0 4px; }
.ac-source { padding: 7px 10px; margin: 6px 0; border-left: 3px solid var(--color-accent);
  background: var(--background-fill-secondary); border-radius: 4px; }
.ac-source.ac-closest { border-left-color: var(--border-color-primary); }
.ac-source-title { font-size: .92rem; }
.ac-n { color: var(--color-accent); font-weight: 700; margin-right: 2px; }
.ac-meta { font-size: .78rem; color: var(--body-text-color-subdued); margin-top: 2px; }
.ac-meta a { color: var(--link-text-color); }
blockquote.ac-passage { margin: 6px 0 0 !important; padding: 0 !important; border: none !important;
  font-size: .88rem; line-height: 1.55; color: var(--body-text-color) !important; }
mark.ac-quote { background: #ffe98a; color: #1f2328; padding: 0 2px; border-radius: 2px; }
.ac-snippet { font-size: .85rem; margin-top: 4px; color: var(--body-text-color-subdued); }
.ac-filters { font-size: .75rem; color: var(--body-text-color-subdued); margin-top: 6px; }
.ac-notice.ac-refused, .ac-notice.ac-error { color: #a12622; }
.ac-notice.ac-pending { color: var(--body-text-color-subdued); font-style: italic; }
.ac-filter-summary { font-size: .8rem; color: var(--body-text-color-subdued); padding: 0 4px; }
.ac-filter-summary.ac-invalid { color: #a12622; }
.ac-side-title { font-weight: 600; font-size: .95rem; }
.ac-help { font-size: .78rem; color: var(--body-text-color-subdued); }
#ac-examples { align-items: center; gap: 6px; flex-wrap: wrap; }
#ac-examples::before { content: "Try:"; font-size: .8rem; color: var(--body-text-color-subdued); }
#ac-examples button { flex: 0 1 auto; min-width: 0; width: auto; white-space: normal;
  text-align: left; }
"""
"""Styles of the chat's HTML fragments (passed to Gradio's ``launch(css=...)``)."""
