"""The documents tab: what is indexed, documents added from the browser, documents removed.

Uploads are checked and kept by :mod:`.uploads`, indexed by the engine in a thread while the
page shows the progress, and reported file by file (what was added, what was not and why).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr

from askculture.errors import AskCultureError
from askculture.ingest import IngestReport
from askculture.web.engine import ChatEngine
from askculture.web.filters import LANGUAGE_NAMES
from askculture.web.i18n import Messages, messages
from askculture.web.render import esc, notice_html
from askculture.web.uploads import accept_uploads, uploads_dir

COLUMNS = ("title", "date", "lang", "publisher", "file")


def upload_html(
    m: Messages,
    progress: dict[str, Any],
    rejected: list[tuple[str, str]],
    report: IngestReport | None,
    error: AskCultureError | None = None,
) -> str:
    """Progress of an upload, then what was added and what was not (each file with why)."""
    parts = ['<div class="ac-upload-report">']
    total = int(progress.get("total") or 0)
    done = total if report is not None else int(progress.get("done") or 0)
    if report is not None:
        text = m(
            "docs.done", added=len(report.added), updated=len(report.updated),
            unchanged=len(report.unchanged), documents=report.documents_indexed,
        )  # fmt: skip
        css = "ac-progress ac-done"
    else:
        text = m("docs.progress", done=done, total=total, current=progress.get("current") or "…")
        css = "ac-progress"
    if total and error is None:
        bar = f'<progress max="{total}" value="{done}"></progress>'
        parts.append(f'<div class="{css}" role="status">{esc(text)} {bar}</div>')
    if error is not None:
        parts.append(notice_html(m("docs.failed", error=error), "error"))
    if rejected:
        items = "".join(
            f'<li class="ac-rejected"><strong>{esc(name)}</strong> — {esc(why)}</li>'
            for name, why in rejected
        )
        title = esc(m("docs.rejected_title"))
        parts.append(f'<div class="ac-rejected-title">{title}</div><ul>{items}</ul>')
    parts.append("</div>")
    return "".join(parts)


class DocumentsPage:
    """The handlers of the documents tab.

    Args:
        engine: The index behind the chat.
        data_dir: The chat's data folder (uploads are kept in it).
        max_mb: Largest file accepted.
        max_files: Most files accepted at once.
        allowed: Whether documents may be added and removed from the browser.
    """

    def __init__(
        self, engine: ChatEngine, data_dir: Path, max_mb: float, max_files: int, allowed: bool
    ):
        self.engine, self.data_dir = engine, data_dir
        self.max_mb, self.max_files, self.allowed = max_mb, max_files, allowed

    def table(self, m: Messages) -> list[Any]:
        """Count, table and removal choices of the indexed documents."""
        docs = self.engine.documents()
        rows = [
            [d.title, d.date or "", LANGUAGE_NAMES.get(d.lang or "", d.lang or ""),
             d.source or "", Path(d.path).name]
            for d in docs
        ]  # fmt: skip
        headers = [m(f"docs.col_{k}") for k in COLUMNS]
        remove = [(f"{d.title} · {d.date or '—'} · {Path(d.path).name}", d.id) for d in docs]
        return [
            f'<div class="ac-doc-count">{esc(m("docs.count", n=len(docs)))}</div>',
            gr.update(value={"headers": headers, "data": rows or [[""] * len(COLUMNS)]}),
            gr.update(choices=remove, value=None),
        ]

    def show(self, lang: str) -> list[Any]:
        """The tab's contents, when it is opened (which also starts loading the model that
        indexes uploads, when uploads are allowed)."""
        if self.allowed:
            self.engine.warm_ingest()
        return self.table(messages(lang))

    def add(self, uploaded: list[Any] | None, lang: str) -> Iterator[tuple[str, Any]]:
        """Check, keep and index uploaded files, yielding the report as it grows.

        Yields:
            ``(report HTML, upload box update)``; the last one clears the upload box.
        """
        m, keep = messages(lang), gr.skip()
        if not self.allowed:
            yield notice_html(m("docs.disabled"), "refused"), keep
            return
        items = [
            (Path(getattr(f, "orig_name", None) or str(f)).name, Path(str(f)))
            for f in uploaded or []
        ]
        if not items:
            yield notice_html(m("docs.nothing"), "refused"), keep
            return
        accepted = accept_uploads(
            items, self.data_dir, max_mb=self.max_mb, max_files=self.max_files
        )
        rejected = [(r.name, m(r.key, **r.values)) for r in accepted.rejected]
        progress: dict[str, Any] = {"done": 0, "total": len(accepted.paths), "current": ""}
        result: dict[str, Any] = {}

        def step(done: int, total: int, path: str) -> None:
            progress.update(done=done, total=total, current=Path(path).name if path else "")

        def work() -> None:
            try:
                result["report"] = self.engine.add_files(accepted.paths, step)
            except AskCultureError as exc:
                result["error"] = exc

        if accepted.paths:
            worker = threading.Thread(target=work, name="askculture-upload", daemon=True)
            worker.start()
            while worker.is_alive():
                yield upload_html(m, progress, rejected, None), keep
                worker.join(0.3)
        report: IngestReport | None = result.get("report")
        if report is not None:
            rejected += [(Path(s.path).name, s.reason) for s in report.skipped]
            for s in report.skipped:  # a file the index refused is not kept either
                kept = uploads_dir(self.data_dir) / Path(s.path).name
                if kept.is_file():
                    kept.unlink()
        yield upload_html(m, progress, rejected, report, result.get("error")), gr.update(value=None)

    def remove(self, doc_id: str | None, lang: str) -> str:
        """Remove a document (and its uploaded file); the message saying what happened."""
        m = messages(lang)
        if not self.allowed:
            return notice_html(m("docs.disabled"), "refused")
        if not doc_id:
            return notice_html(m("docs.remove_pick"), "refused")
        doc = self.engine.document(doc_id)
        try:
            paths = self.engine.remove([doc_id], delete_under=uploads_dir(self.data_dir))
        except AskCultureError as exc:
            return notice_html(m("docs.remove_failed", error=exc), "error")
        title = f"“{doc.title}”" if doc else doc_id
        return notice_html(m("docs.removed", title=title, n=len(paths)), "info")
