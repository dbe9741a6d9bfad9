"""An answer as a Markdown document for journalists: quotes, sources, dates and URLs.

Markdown is plain text: it holds the characters themselves (a ``<`` in a title stays ``<``);
escaping belongs to the HTML view only.
"""

from __future__ import annotations

import re
from pathlib import Path

from askculture.answering import Answer
from askculture.web.answer_view import answer_lines
from askculture.web.i18n import Messages
from askculture.web.render import closest_documents, flat, language_name, safe_url
from askculture.web.written import Writing


def answer_markdown(
    answer: Answer,
    *,
    filters_text: str | None = None,
    asked_at: str | None = None,
    m: Messages | None = None,
    writing: Writing | None = None,
) -> str:
    """The answer with its quotes, sources, dates and URLs as a Markdown document.

    Args:
        answer: The answer.
        filters_text: The filters it was asked with, described.
        asked_at: When it was asked (shown in the header line).
        m: The interface language's messages.
        writing: How it was worded: a written answer comes first, with its marker, then the
            quotes; a refused one adds its one-line notice.
    """
    m = m or Messages()
    writing = writing or Writing()
    lines = [f"# {flat(answer.question).strip()}", ""]
    about = m("export.about")
    if asked_at:
        about += ", " + m("export.asked_at", when=asked_at)
    about += ". " + m("filters.applied", what=filters_text or m("filters.none")) + "."
    lines += [f"_{about}_", ""]
    if answer.abstained:
        lines += [f"**{m('answer.no_answer')}.**", ""]
    else:
        by_n = {c.n: c for c in answer.citations}
        if writing.written:
            lines += [flat(writing.text).strip(), "", f"_{writing.marker(m)}_", ""]
            lines += [f"## {m('answer.quotes')}", ""]
        elif answer.short_answer and answer.short_answer_n in by_n:
            lines += [
                f"**{m('answer.direct')}: {answer.short_answer}** [{answer.short_answer_n}]",
                "",
            ]
        for line in answer_lines(answer):
            marks = "".join(f"[{n}]" for n in line.numbers)
            if line.main in by_n:
                lines.append(f"{flat(by_n[line.main].quote).strip()} {marks}  ")
        lines.append("")
        fallback = writing.fallback_text(m)
        if fallback:
            lines += [f"_{fallback}_", ""]
    if answer.citations:
        lines += [f"## {m('answer.sources')}", ""]
        for c in answer.citations:
            lines += _source_md(c.n, c.title, c.source, c.date, c.lang, c.url, c.path, m)
            lines += [f"> {x}".rstrip() for x in c.quote.strip().splitlines()] + [""]
    elif answer.abstained:
        docs = closest_documents(answer)
        if docs:
            lines += [f"## {m('answer.closest')}", ""]
            for i, d in enumerate(docs, 1):
                lines += _source_md(i, d["title"], d["source"], d["date"], d["lang"], d["url"], d["path"], m)  # fmt: skip  # noqa: E501
    return "\n".join(lines).rstrip() + "\n"


def _source_md(
    n: int,
    title: str,
    source: str | None,
    date: str | None,
    lang: str | None,
    url: str | None,
    path: str,
    m: Messages,
) -> list[str]:
    head = f"**[{n}] {flat(title).strip()}**  "
    meta = ", ".join(
        [
            source or m("answer.unknown_publisher"),
            date or m("answer.undated"),
            language_name(lang, m),
        ]
    )
    good = safe_url(url)
    where = f"<{good}>" if good else m("export.file", name=Path(path).name)
    return [head, f"{meta}  ", where, ""]


EXPORTS_DIR = "exports"
"""Exported answers are kept in this folder of the data folder, one subfolder per answer."""


def export_file(folder: Path, question: str, asked_at: str, markdown: str) -> Path:
    """Write an answer's Markdown into ``folder`` under a readable name; return the file."""
    slug = re.sub(r"[^\w]+", "-", question.lower()).strip("-")[:48] or "answer"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"askculture-{asked_at[:10]}-{slug}.md"
    path.write_text(markdown, encoding="utf-8")
    return path
