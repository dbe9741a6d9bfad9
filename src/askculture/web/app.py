"""The Gradio app of the chat: layout, and the handlers that connect it to the engine and stores.

Every visible string comes from the message catalogue (:mod:`.i18n`); the page's language follows
the browser's ``Accept-Language`` until the user picks another with the switch (kept in the
browser). Everything shown that comes from a document or a user is escaped by :mod:`.render`.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from importlib.resources import files
from pathlib import Path
from typing import Any

import gradio as gr
from gradio.events import api as gr_api

from askculture.errors import AskCultureError, ConfigError
from askculture.feedback import FeedbackStore
from askculture.web.conversations import ConversationStore, Turn, valid_browser_id
from askculture.web.engine import ChatEngine, log
from askculture.web.export import answer_markdown, export_file
from askculture.web.filters import LANGUAGE_NAMES, FilterError, Filters, filters_html, make_filters
from askculture.web.i18n import Messages, languages, messages, negotiate, supported
from askculture.web.publishers import choices as publisher_choices
from askculture.web.render import (
    answer_from_dict,
    answer_json,
    document_html,
    esc,
    meta_line,
    notice_html,
    status_html,
)
from askculture.web.turns import (
    chat_messages,
    feedback_values,
    notice_body,
    notice_text,
    turn_text,
    user_html,
)
from askculture.web.uploads import accept_uploads, uploads_dir

EXAMPLES = (
    "Who signed the roadmap with GITIS?",
    "Кто возглавил заседание подкомиссии в Москве в октябре 2025 года?",
    "Жүргенов академиясы қай институтпен жол картасына қол қойды?",
)
HISTORY_TURNS = 4
"""Earlier turns passed to the answerer for follow-up questions."""

ASSETS = files("askculture.web") / "assets"
CSS = (ASSETS / "style.css").read_text(encoding="utf-8")
HEAD = "<script>\n" + (ASSETS / "page.js").read_text(encoding="utf-8") + "\n</script>"
LOAD_JS = """() => {
  let id = localStorage.getItem('askculture-browser');
  if (!id || !/^[A-Za-z0-9-]{8,64}$/.test(id)) {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    id = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
    localStorage.setItem('askculture-browser', id);
  }
  return [localStorage.getItem('askculture-lang') || '', id];
}"""
SET_LANG_JS = """(lang) => {
  document.documentElement.lang = lang;
  localStorage.setItem('askculture-lang', lang);
}"""
COPY_JS = """async (md) => {
  if (!md) { return; }
  try { await navigator.clipboard.writeText(md); } catch (e) {
    const t = document.createElement('textarea'); t.value = md; document.body.appendChild(t);
    t.select(); document.execCommand('copy'); t.remove();
  }
}"""

Labels = Callable[[Messages], dict[str, Any]]


def header_html(m: Messages) -> str:
    """The page's title and what the tool does."""
    tagline = esc(m("header.tagline"))
    return f'<div class="ac-header"><div><h1>askculture</h1><p>{tagline}</p></div></div>'


def try_html(m: Messages) -> str:
    """The word before the example questions."""
    return f'<span class="ac-try">{esc(m("examples.label"))}</span>'


def side_title(text: str) -> str:
    """A panel's title."""
    return f'<div class="ac-side-title">{esc(text)}</div>'


def build_app(
    engine: ChatEngine,
    feedback: FeedbackStore | None = None,
    conversations: ConversationStore | None = None,
    *,
    allow_uploads: bool = False,
) -> gr.Blocks:
    """The Gradio Blocks app of the chat.

    Args:
        engine: The prepared (or preparing) index.
        feedback: Where ratings go (default: in ``settings.app.data_dir``).
        conversations: Where conversations go (default: in ``settings.app.data_dir``).
        allow_uploads: Show the controls that add and remove documents.
    """
    settings = engine.settings
    data_dir = Path(settings.app.data_dir)
    store = feedback or FeedbackStore.in_dir(data_dir)
    convs = conversations or ConversationStore.in_dir(data_dir)
    max_chars = settings.app.max_question_chars
    keep = gr.skip()
    labels: list[tuple[Any, Labels]] = []

    def labelled(component: Any, make: Labels) -> Any:
        labels.append((component, make))
        return component

    def relabel(m: Messages) -> list[Any]:
        return [gr.update(**make(m)) for _, make in labels]

    def doc_texts(answer: Any) -> dict[str, str | None]:
        return engine.document_texts(answer)

    def load_turns(turns: list[dict[str, Any]]) -> list[Turn]:
        return [Turn.from_dict(t) for t in turns or []]

    def chat_view(turns: list[Turn], m: Messages) -> Any:
        ratings = store.ratings([t.id for t in turns])
        return gr.update(
            value=chat_messages(turns, doc_texts, m), feedback_value=feedback_values(turns, ratings)
        )

    def conv_choices(browser: str) -> list[tuple[str, str]]:
        if not valid_browser_id(browser):
            return []
        return [(f"{c.title} · {c.updated[:10]}", c.id) for c in convs.of_browser(browser)]

    def export_choices(turns: list[Turn]) -> list[tuple[str, str]]:
        return [
            (f"{i}. {t.question[:70]}", t.id) for i, t in enumerate(turns, 1) if t.kind == "answer"
        ]

    def export_of(turn: Turn | None, m: Messages) -> tuple[Any, Any]:
        if turn is None or turn.kind != "answer":
            return "", gr.update(value=None, interactive=False)
        filters = Filters.from_dict(turn.filters)
        md = answer_markdown(
            answer_from_dict(turn.body), asked_at=turn.asked_at, m=m,
            filters_text=filters.describe(m) if filters.active else None,
        )  # fmt: skip
        path = export_file(data_dir / "exports" / turn.id, turn.question, turn.asked_at, md)
        return md, gr.update(value=str(path), interactive=True)

    def conversation_outputs(
        turns: list[Turn], conv: str | None, browser: str, m: Messages
    ) -> list[Any]:
        last = next((t for t in reversed(turns) if t.kind == "answer"), None)
        md, download_update = export_of(last, m)
        return [
            chat_view(turns, m), [t.to_dict() for t in turns], conv,
            gr.update(choices=conv_choices(browser), value=conv),
            gr.update(choices=export_choices(turns), value=last.id if last else None),
            md, download_update,
        ]  # fmt: skip

    # -- the chat ----------------------------------------------------------------------------
    def check(question: str, filter_values: tuple[Any, ...]) -> Filters:
        if len(question) > max_chars:
            raise FilterError("error.too_long", n=f"{len(question):,}", max=f"{max_chars:,}")
        return make_filters(*filter_values)

    def answer_turn(question: str, turns: list[Turn], filters: Filters) -> Turn:
        history = [(t.question, turn_text(t, Messages())) for t in turns if t.kind == "answer"]
        try:
            answer = engine.ask(question, history[-HISTORY_TURNS:], filters)
        except AskCultureError as exc:
            return Turn(question, "error", notice_body(exc), filters.to_dict())
        return Turn(question, "answer", answer.to_dict(), filters.to_dict())

    def respond(
        question: str, turns_data: list[dict[str, Any]], conv: str | None, browser: str,
        lang: str, *filter_values: Any,
    ) -> Iterator[tuple[Any, ...]]:  # fmt: skip
        m, question = messages(lang), question or ""
        turns = load_turns(turns_data)
        if not question.strip():
            gr.Warning(m("error.empty"))
            yield (keep,) * 8
            return
        try:
            filters = check(question, filter_values)
        except FilterError as exc:
            turn = Turn(question, "refused", notice_body(exc))
            keep_question = question  # kept in the box, to correct
        else:
            pending = [
                *chat_messages(turns, doc_texts, m),
                {"role": "user", "content": user_html(question)},
                {"role": "assistant", "content": notice_html(m("chat.searching"), "pending")},
            ]
            yield "", pending, keep, keep, keep, keep, keep, keep
            turn = answer_turn(question, turns, filters)
            keep_question = question if turn.kind == "error" else ""
        turns.append(turn)
        if valid_browser_id(browser):
            try:
                conv = convs.add_turn(browser, conv, turn)
            except ConfigError as exc:
                log(f"warning: conversation not saved: {exc}")
        yield (keep_question, *conversation_outputs(turns, conv, browser, m))

    def choose_export(
        turn_id: str | None, turns_data: list[dict[str, Any]], lang: str
    ) -> tuple[Any, Any]:
        turn = next((t for t in load_turns(turns_data) if t.id == turn_id), None)
        return export_of(turn, messages(lang))

    def new_conversation(browser: str, lang: str) -> list[Any]:
        return conversation_outputs([], None, browser, messages(lang))

    def open_conversation(conv: str | None, browser: str, lang: str) -> list[Any]:
        if not conv or not valid_browser_id(browser):
            return new_conversation(browser, lang)
        return conversation_outputs(convs.turns(browser, conv), conv, browser, messages(lang))

    def delete_conversation(conv: str | None, browser: str, lang: str) -> list[Any]:
        m = messages(lang)
        if conv and valid_browser_id(browser) and convs.delete(browser, conv):
            gr.Info(m("conv.deleted"))
        return new_conversation(browser, lang)

    # -- ratings and comments ------------------------------------------------------------------
    def rate(
        turns_data: list[dict[str, Any]], lang: str, data: gr.LikeData
    ) -> tuple[Any, Any, Any]:
        m = messages(lang)
        index = data.index[0] if isinstance(data.index, (list, tuple)) else data.index
        turns = load_turns(turns_data)
        turn = (
            turns[index // 2] if isinstance(index, int) and 0 <= index // 2 < len(turns) else None
        )
        hide = gr.update(visible=False)
        if turn is None:
            return hide, None, keep
        try:
            if data.liked not in (True, False):  # the vote was taken back
                store.remove(turn.id)
                gr.Info(m("feedback.removed"))
                return hide, None, keep
            body = turn.body
            store.record(
                turn.id, liked=bool(data.liked), question=turn.question, answer=turn_text(turn, m),
                sources=body.get("citations", []) if turn.kind == "answer" else [],
                abstained=bool(body.get("abstained")) if turn.kind == "answer" else True,
                filters=turn.filters,
            )  # fmt: skip
        except AskCultureError as exc:
            gr.Warning(m("feedback.failed", error=exc))
            return hide, None, keep
        gr.Info(m("feedback.saved"))
        if data.liked is False:
            return gr.update(visible=True), turn.id, ""
        return hide, None, keep

    def send_comment(turn_id: str | None, text: str, lang: str) -> tuple[Any, Any]:
        m = messages(lang)
        if not turn_id:
            return gr.update(visible=False), keep
        if not (text or "").strip():
            gr.Warning(m("feedback.comment_empty"))
            return keep, keep
        try:
            store.comment(turn_id, text)
        except AskCultureError as exc:
            gr.Warning(m("feedback.failed", error=exc))
            return keep, keep
        gr.Info(m("feedback.comment_saved"))
        return gr.update(visible=False), ""

    # -- the page ------------------------------------------------------------------------------
    def publishers_update(m: Messages) -> Any:
        return gr.update(choices=publisher_choices(engine.publishers(), m.lang))

    def refresh_status(lang: str) -> tuple[Any, Any, Any]:
        m, st = messages(lang), engine.status()
        pubs = publishers_update(m) if st.ready else keep
        busy = st.phase in {"starting", "building", "loading"}
        return status_html(st.to_dict(), m), pubs, gr.Timer(active=busy)

    def page(
        m: Messages,
        turns: list[Turn],
        conv: str | None,
        browser: str,
        filter_values: tuple[Any, ...],
    ) -> list[Any]:
        return [
            m.lang, gr.update(value=m.lang), status_html(engine.status().to_dict(), m),
            publishers_update(m), filters_html(m, *filter_values),
            *conversation_outputs(turns, conv, browser, m), *relabel(m),
        ]  # fmt: skip

    def on_load(stored: str, browser: str, request: gr.Request) -> list[Any]:
        header = request.headers.get("accept-language") if request is not None else None
        m = messages(supported(stored) or negotiate(header))
        browser = browser if valid_browser_id(browser) else ""
        recent = convs.of_browser(browser) if browser else []
        conv = recent[0].id if recent else None
        turns = convs.turns(browser, conv) if conv else []
        return [browser, *page(m, turns, conv, browser, ("", "", list(LANGUAGE_NAMES), []))]

    def switch_language(
        lang: str,
        turns_data: list[dict[str, Any]],
        conv: str | None,
        browser: str,
        *filter_values: Any,
    ) -> list[Any]:
        return page(messages(lang), load_turns(turns_data), conv, browser, filter_values)

    # -- documents -----------------------------------------------------------------------------
    def documents_table(m: Messages) -> dict[str, Any]:
        rows = [
            [d.title, d.date or "", LANGUAGE_NAMES.get(d.lang or "", d.lang or ""),
             d.source or "", Path(d.path).name]
            for d in engine.documents()
        ]  # fmt: skip
        headers = [m(f"docs.col_{k}") for k in ("title", "date", "lang", "publisher", "file")]
        return {"headers": headers, "data": rows or [[""] * 5]}

    def documents_outputs(m: Messages) -> list[Any]:
        docs = engine.documents()
        remove = [(f"{d.title} · {d.date or '—'} · {Path(d.path).name}", d.id) for d in docs]
        return [
            f'<div class="ac-doc-count">{esc(m("docs.count", n=len(docs)))}</div>',
            gr.update(value=documents_table(m), headers=documents_table(m)["headers"]),
            gr.update(choices=remove, value=None),
        ]

    def show_documents(lang: str) -> list[Any]:
        return documents_outputs(messages(lang))

    def add_documents(uploaded: list[Any] | None, lang: str) -> Iterator[tuple[Any, ...]]:
        m = messages(lang)
        if not allow_uploads:
            yield notice_html(m("docs.disabled"), "refused"), keep, keep, keep, keep, keep
            return
        items = [
            (Path(getattr(f, "orig_name", None) or str(f)).name, Path(str(f)))
            for f in uploaded or []
        ]
        if not items:
            yield notice_html(m("docs.nothing"), "refused"), keep, keep, keep, keep, keep
            return
        accepted = accept_uploads(
            items, data_dir, max_mb=settings.app.max_upload_mb,
            max_files=settings.app.max_upload_files,
        )  # fmt: skip
        rejected = [(r.name, m(r.key, **r.values)) for r in accepted.rejected]
        state: dict[str, Any] = {"done": 0, "total": len(accepted.paths), "current": ""}
        result: dict[str, Any] = {}

        def progress(done: int, total: int, path: str) -> None:
            state.update(done=done, total=total, current=Path(path).name if path else "")

        def work() -> None:
            try:
                result["report"] = engine.add_files(accepted.paths, progress)
            except AskCultureError as exc:
                result["error"] = exc

        if accepted.paths:
            worker = threading.Thread(target=work, name="askculture-upload", daemon=True)
            worker.start()
            while worker.is_alive():
                yield upload_html(m, state, rejected, None), keep, keep, keep, keep, keep
                worker.join(0.3)
        report = result.get("report")
        if report is not None:
            rejected += [(Path(s.path).name, s.reason) for s in report.skipped]
            for s in report.skipped:  # a file the index refused is not kept either
                skipped = uploads_dir(data_dir) / Path(s.path).name
                if skipped.is_file():
                    skipped.unlink()
        error = result.get("error")
        final = upload_html(m, state, rejected, report, error)
        st = engine.status()
        yield (
            final, gr.update(value=None), *documents_outputs(m)[1:],
            status_html(st.to_dict(), m), publishers_update(m),
        )  # fmt: skip

    def remove_document(doc_id: str | None, lang: str) -> list[Any]:
        m = messages(lang)
        if not allow_uploads:
            return [notice_html(m("docs.disabled"), "refused"), keep, keep, keep, keep]
        if not doc_id:
            return [notice_html(m("docs.remove_pick"), "refused"), keep, keep, keep, keep]
        doc = engine.document(doc_id)
        try:
            paths = engine.remove([doc_id], delete_under=uploads_dir(data_dir))
        except AskCultureError as exc:
            return [
                notice_html(m("docs.remove_failed", error=exc), "error"),
                keep,
                keep,
                keep,
                keep,
            ]
        title = f"“{doc.title}”" if doc else doc_id
        text = m("docs.removed", title=title, n=len(paths))
        st = engine.status()
        return [
            notice_html(text, "info"),
            *documents_outputs(m)[1:],
            status_html(st.to_dict(), m),
            publishers_update(m),
        ]

    def open_document(payload: str, turns_data: list[dict[str, Any]], lang: str) -> tuple[Any, Any]:
        m = messages(lang)
        try:  # the button's id: ac-open-<turn id prefix>-<citation number>
            _, _, turn_key, n = str(json.loads(payload or "{}")["source"]).split("-")
            turn = next(t for t in load_turns(turns_data) if t.id.startswith(turn_key))
            cited = next(c for c in turn.body["citations"] if c["n"] == int(n))
            doc = engine.document(str(cited["doc_id"]))
            start, end = int(cited["start"]), int(cited["end"])
        except (ValueError, KeyError, TypeError, StopIteration):
            return keep, keep
        if doc is None:
            return gr.update(visible=True), notice_html(m("viewer.missing"), "error")
        meta = meta_line(doc.date, doc.source, doc.lang, doc.url, doc.path, m)
        return gr.update(visible=True), document_html(doc.title, meta, doc.text, start, end, m)

    # -- the API -------------------------------------------------------------------------------
    def api_ask(
        question: str,
        history: list[list[str]] | None = None,
        date_from: str = "",
        date_to: str = "",
        languages: list[str] | None = None,
        publishers: list[str] | None = None,
    ) -> dict[str, Any]:
        """Answer a question from the documents, with verbatim citations.

        Returns a dict: question, text (with [n] markers), abstained, short_answer,
        short_answer_n, citations (n, doc_id, title, date, source, url, file, lang, quote,
        start, end) and passages. A publisher stands for all its names (in every language).
        """
        try:
            filters = check(question or "", (date_from, date_to, languages, publishers))
            pairs = [(str(h[0]), str(h[1])) for h in history or [] if len(h) >= 2]
            return answer_json(engine.ask(question, pairs, filters))
        except AskCultureError as exc:
            body = notice_body(exc)
            text = notice_text(body, Messages()) if isinstance(exc, FilterError) else str(exc)
            text = text[:1].upper() + text[1:]
            log(f"refused /ask: {text}")
            raise gr.Error(text, print_exception=False) from None

    def api_status() -> dict[str, Any]:
        """Whether the index is ready (phase, progress) and what it holds."""
        return engine.status().to_dict()

    en = Messages()
    with gr.Blocks(title="askculture", analytics_enabled=False, delete_cache=(3600, 86400)) as demo:
        # hidden boxes, not gr.State: the browser's script reads and fills them
        lang_state = gr.Textbox("en", elem_id="ac-lang-code", elem_classes=["ac-hidden"])
        browser_state = gr.Textbox("", elem_id="ac-browser", elem_classes=["ac-hidden"])
        conv_state = gr.State(None)
        turns_state = gr.State([])
        comment_target = gr.State(None)
        with gr.Row(equal_height=False):
            with gr.Column(scale=4):
                labelled(gr.HTML(header_html(en)), lambda m: {"value": header_html(m)})
            with gr.Column(scale=1, min_width=260):
                ui_lang = labelled(
                    gr.Radio(
                        [(name, code) for code, name in languages().items()],
                        value="en",
                        label=en("ui.language"),
                        elem_id="ac-ui-lang",
                    ),
                    lambda m: {"label": m("ui.language")},
                )
        status = gr.HTML(status_html(engine.status().to_dict()), elem_id="ac-status")
        with gr.Tabs(elem_id="ac-tabs"):
            with gr.Tab(en("tab.chat"), id="chat", elem_id="ac-tab-chat") as chat_tab:
                labelled(chat_tab, lambda m: {"label": m("tab.chat")})
                with gr.Row(equal_height=False):
                    with gr.Column(scale=1, min_width=220, elem_id="ac-conv-col"):
                        labelled(
                            gr.HTML(side_title(en("conv.title"))),
                            lambda m: {"value": side_title(m("conv.title"))},
                        )
                        new_chat = labelled(
                            gr.Button(
                                en("conv.new"), size="sm", variant="primary", elem_id="ac-new"
                            ),
                            lambda m: {"value": m("conv.new")},
                        )
                        conv_list = labelled(
                            gr.Radio(
                                [],
                                label=en("conv.title"),
                                show_label=False,
                                elem_id="ac-conversations",
                            ),
                            lambda m: {"label": m("conv.title")},
                        )
                        delete_conv = labelled(
                            gr.Button(
                                en("conv.delete"),
                                size="sm",
                                variant="stop",
                                elem_id="ac-delete-conv",
                            ),
                            lambda m: {"value": m("conv.delete")},
                        )
                    with gr.Column(scale=4, min_width=480):
                        chatbot = labelled(
                            gr.Chatbot(
                                label=en("chat.label"),
                                show_label=False,
                                elem_id="ac-chat",
                                height="60vh",
                                min_height=360,
                                latex_delimiters=[],
                                sanitize_html=True,
                                buttons=[],
                                layout="panel",
                                autoscroll=False,
                                placeholder=en("chat.placeholder"),
                            ),
                            lambda m: {
                                "label": m("chat.label"),
                                "placeholder": m("chat.placeholder"),
                            },
                        )
                        with gr.Column(
                            visible=False, variant="panel", elem_id="ac-comment"
                        ) as comment_group:
                            comment_box = labelled(
                                gr.Textbox(
                                    label=en("feedback.comment_label"),
                                    lines=2,
                                    max_lines=6,
                                    placeholder=en("feedback.comment_placeholder"),
                                    elem_id="ac-comment-text",
                                ),
                                lambda m: {
                                    "label": m("feedback.comment_label"),
                                    "placeholder": m("feedback.comment_placeholder"),
                                },
                            )
                            comment_send = labelled(
                                gr.Button(
                                    en("feedback.comment_send"),
                                    size="sm",
                                    elem_id="ac-comment-send",
                                ),
                                lambda m: {"value": m("feedback.comment_send")},
                            )
                        with gr.Row(equal_height=True):
                            question = labelled(
                                gr.Textbox(
                                    label=en("question.label"),
                                    show_label=False,
                                    lines=1,
                                    max_lines=6,
                                    scale=6,
                                    elem_id="ac-question",
                                    autofocus=True,
                                    placeholder=en("question.placeholder", max=f"{max_chars:,}"),
                                ),
                                lambda m: {
                                    "label": m("question.label"),
                                    "placeholder": m("question.placeholder", max=f"{max_chars:,}"),
                                },
                            )
                            ask_btn = labelled(
                                gr.Button(
                                    en("ask.button"),
                                    variant="primary",
                                    scale=0,
                                    min_width=90,
                                    elem_id="ac-ask",
                                ),
                                lambda m: {"value": m("ask.button")},
                            )
                        filter_summary = gr.HTML(
                            filters_html(en, "", "", [], []), elem_id="ac-filter-line"
                        )
                        with gr.Row(elem_id="ac-examples"):
                            labelled(
                                gr.HTML(
                                    try_html(en),
                                    elem_classes=["ac-try"],
                                ),
                                lambda m: {"value": try_html(m)},
                            )
                            examples = [
                                gr.Button(q, size="sm", elem_classes=["ac-example"])
                                for q in EXAMPLES
                            ]
                    with gr.Column(scale=2, min_width=300, elem_id="ac-side"):
                        with gr.Column(variant="panel", elem_id="ac-filters"):
                            labelled(
                                gr.HTML(side_title(en("filters.title"))),
                                lambda m: {"value": side_title(m("filters.title"))},
                            )
                            with gr.Row():
                                date_from = labelled(
                                    gr.Textbox(
                                        label=en("filters.from"),
                                        placeholder=en("filters.from_placeholder"),
                                        elem_id="ac-date-from",
                                    ),
                                    lambda m: {
                                        "label": m("filters.from"),
                                        "placeholder": m("filters.from_placeholder"),
                                    },
                                )
                                date_to = labelled(
                                    gr.Textbox(
                                        label=en("filters.to"),
                                        placeholder=en("filters.to_placeholder"),
                                        elem_id="ac-date-to",
                                    ),
                                    lambda m: {
                                        "label": m("filters.to"),
                                        "placeholder": m("filters.to_placeholder"),
                                    },
                                )
                            langs = labelled(
                                gr.CheckboxGroup(
                                    [(name, code) for code, name in LANGUAGE_NAMES.items()],
                                    value=list(LANGUAGE_NAMES),
                                    label=en("filters.languages"),
                                    info=en("filters.languages_info"),
                                    elem_id="ac-langs",
                                ),
                                lambda m: {
                                    "label": m("filters.languages"),
                                    "info": m("filters.languages_info"),
                                },
                            )
                            pubs = labelled(
                                gr.Dropdown(
                                    choices=[],
                                    value=[],
                                    multiselect=True,
                                    label=en("filters.publishers"),
                                    info=en("filters.publishers_info"),
                                    elem_id="ac-publishers",
                                ),
                                lambda m: {
                                    "label": m("filters.publishers"),
                                    "info": m("filters.publishers_info"),
                                },
                            )
                            reset_filters = labelled(
                                gr.Button(en("filters.clear"), size="sm", elem_id="ac-reset"),
                                lambda m: {"value": m("filters.clear")},
                            )
                        with gr.Column(variant="panel", elem_id="ac-export"):
                            labelled(
                                gr.HTML(side_title(en("export.title"))),
                                lambda m: {"value": side_title(m("export.title"))},
                            )
                            export_choice = labelled(
                                gr.Dropdown(
                                    choices=[],
                                    label=en("export.answer"),
                                    elem_id="ac-export-choice",
                                ),
                                lambda m: {"label": m("export.answer")},
                            )
                            with gr.Row():
                                download = labelled(
                                    gr.DownloadButton(
                                        en("export.download"),
                                        size="sm",
                                        interactive=False,
                                        elem_id="ac-download",
                                    ),
                                    lambda m: {"label": m("export.download")},
                                )
                                copy_btn = labelled(
                                    gr.Button(en("export.copy"), size="sm", elem_id="ac-copy"),
                                    lambda m: {"value": m("export.copy")},
                                )
                            with gr.Accordion(en("export.preview"), open=False) as preview:
                                labelled(preview, lambda m: {"label": m("export.preview")})
                                export_md = gr.Textbox(
                                    show_label=False, lines=8, max_lines=16, interactive=False,
                                    buttons=["copy"], elem_id="ac-markdown",
                                )  # fmt: skip
                        labelled(
                            gr.HTML(f'<div class="ac-help">{esc(en("help.text"))}</div>'),
                            lambda m: {
                                "value": f'<div class="ac-help">{esc(m("help.text"))}</div>'
                            },
                        )
            with gr.Tab(en("tab.documents"), id="documents", elem_id="ac-tab-docs") as docs_tab:
                labelled(docs_tab, lambda m: {"label": m("tab.documents")})
                with gr.Column(variant="panel", visible=allow_uploads, elem_id="ac-add-docs"):
                    labelled(
                        gr.HTML(side_title(en("docs.add_title"))),
                        lambda m: {"value": side_title(m("docs.add_title"))},
                    )
                    limits = {
                        "count": settings.app.max_upload_files,
                        "mb": f"{settings.app.max_upload_mb:g}",
                    }
                    upload = labelled(
                        gr.File(
                            file_count="multiple",
                            label=en("docs.upload_label", **limits),
                            elem_id="ac-upload",
                        ),
                        lambda m: {"label": m("docs.upload_label", **limits)},
                    )
                    upload_btn = labelled(
                        gr.Button(
                            en("docs.upload_button"), variant="primary", elem_id="ac-upload-go"
                        ),
                        lambda m: {"value": m("docs.upload_button")},
                    )
                    upload_report = gr.HTML("", elem_id="ac-upload-report")
                    with gr.Row(equal_height=True):
                        remove_choice = labelled(
                            gr.Dropdown(
                                choices=[],
                                label=en("docs.remove_label"),
                                scale=4,
                                elem_id="ac-remove-choice",
                            ),
                            lambda m: {"label": m("docs.remove_label")},
                        )
                        remove_btn = labelled(
                            gr.Button(
                                en("docs.remove_button"),
                                variant="stop",
                                scale=1,
                                elem_id="ac-remove",
                            ),
                            lambda m: {"value": m("docs.remove_button")},
                        )
                    remove_report = gr.HTML("", elem_id="ac-remove-report")
                if not allow_uploads:
                    labelled(
                        gr.HTML(notice_html(en("docs.disabled"))),
                        lambda m: {"value": notice_html(m("docs.disabled"))},
                    )
                labelled(
                    gr.HTML(side_title(en("docs.title"))),
                    lambda m: {"value": side_title(m("docs.title"))},
                )
                doc_count = gr.HTML("", elem_id="ac-doc-count")
                doc_table = gr.Dataframe(
                    value=documents_table(en), interactive=False, wrap=True, elem_id="ac-doc-table",
                    max_height=600,
                )  # fmt: skip
        with gr.Column(visible=False, elem_id="ac-viewer") as viewer:
            viewer_close = labelled(
                gr.Button(en("viewer.close"), size="sm", elem_id="ac-viewer-close"),
                lambda m: {"value": m("viewer.close")},
            )
            viewer_html = gr.HTML("", elem_id="ac-viewer-doc")
        open_doc = gr.Textbox(elem_id="ac-open-doc", elem_classes=["ac-hidden"], show_label=False)
        open_go = gr.Button("open", elem_id="ac-open-doc-go", elem_classes=["ac-hidden"])
        timer = gr.Timer(1.0, active=not engine.status().ready)

        private: dict[str, Any] = {"api_visibility": "private"}
        quick: dict[str, Any] = {"queue": False, **private}
        filter_inputs = [date_from, date_to, langs, pubs]
        conv_out = [chatbot, turns_state, conv_state, conv_list, export_choice, export_md, download]
        chat_in = [question, turns_state, conv_state, browser_state, lang_state, *filter_inputs]
        answering: dict[str, Any] = {
            "concurrency_id": "answer", "show_progress": "minimal", **private,
        }  # fmt: skip
        gr.on(
            [question.submit, ask_btn.click], respond, chat_in, [question, *conv_out], **answering
        )
        for button, text in zip(examples, EXAMPLES, strict=True):
            button.click(lambda t=text: t, None, question, **quick).then(
                respond, chat_in, [question, *conv_out], **answering
            )
        gr.on(
            [date_from.change, date_to.change, langs.change, pubs.change],
            lambda lang, *v: filters_html(messages(lang), *v),
            [lang_state, *filter_inputs], filter_summary, **quick,
        )  # fmt: skip
        reset_filters.click(
            lambda: ("", "", list(LANGUAGE_NAMES), []), None, filter_inputs, **quick
        )
        export_choice.input(
            choose_export,
            [export_choice, turns_state, lang_state],
            [export_md, download],
            **private,
        )
        copy_btn.click(None, [export_md], None, js=COPY_JS, **private)
        new_chat.click(new_conversation, [browser_state, lang_state], conv_out, **quick)
        conv_list.input(
            open_conversation, [conv_list, browser_state, lang_state], conv_out, **private
        )
        delete_conv.click(
            delete_conversation, [conv_state, browser_state, lang_state], conv_out, **private
        )
        chatbot.like(
            rate, [turns_state, lang_state], [comment_group, comment_target, comment_box], **private
        )
        comment_send.click(
            send_comment,
            [comment_target, comment_box, lang_state],
            [comment_group, comment_box],
            **private,
        )
        timer.tick(refresh_status, [lang_state], [status, pubs, timer], **quick)
        relabelled = [c for c, _ in labels]
        page_out = [lang_state, ui_lang, status, pubs, filter_summary, *conv_out, *relabelled]
        demo.load(
            on_load, [lang_state, browser_state], [browser_state, *page_out], js=LOAD_JS, **private
        ).then(
            None, [lang_state], None, js="(l) => { document.documentElement.lang = l; }", **private
        )
        ui_lang.input(
            switch_language,
            [ui_lang, turns_state, conv_state, browser_state, *filter_inputs],
            page_out,
            **private,
        ).then(
            None,
            [lang_state],
            None,
            js=SET_LANG_JS,
            **private,
        )
        docs_out = [doc_count, doc_table, remove_choice]
        docs_tab.select(show_documents, [lang_state], docs_out, **private)
        upload_btn.click(
            add_documents, [upload, lang_state],
            [upload_report, upload, doc_table, remove_choice, status, pubs],
            concurrency_id="documents", **private,
        )  # fmt: skip
        remove_btn.click(
            remove_document, [remove_choice, lang_state],
            [remove_report, doc_table, remove_choice, status, pubs],
            concurrency_id="documents", **private,
        )  # fmt: skip
        open_go.click(
            open_document, [open_doc, turns_state, lang_state], [viewer, viewer_html], **private
        )
        viewer_close.click(lambda: gr.update(visible=False), None, viewer, **quick)
        gr_api(api_ask, api_name="ask", concurrency_id="answer")
        gr_api(api_status, api_name="status", queue=False)
    app: gr.Blocks = demo
    return app


def upload_html(
    m: Messages,
    state: dict[str, Any],
    rejected: list[tuple[str, str]],
    report: Any,
    error: AskCultureError | None = None,
) -> str:
    """Progress of an upload, then what was added and what was not (each file with why)."""
    parts = ['<div class="ac-upload-report">']
    if report is None and error is None and state.get("total"):
        done, total = int(state["done"]), int(state["total"])
        text = m("docs.progress", done=done, total=total, current=state.get("current") or "…")
        parts.append(
            f'<div class="ac-progress" role="status">{esc(text)} '
            f'<progress max="{total}" value="{done}"></progress></div>'
        )
    if report is not None:
        text = m(
            "docs.done", added=len(report.added), updated=len(report.updated),
            unchanged=len(report.unchanged), documents=report.documents_indexed,
        )  # fmt: skip
        parts.append(f'<div class="ac-progress ac-done" role="status">{esc(text)}</div>')
    if error is not None:
        parts.append(notice_html(m("docs.failed", error=error), "error"))
    if rejected:
        items = "".join(
            f'<li class="ac-rejected"><strong>{esc(name)}</strong> — {esc(why)}</li>'
            for name, why in rejected
        )
        parts.append(
            f'<div class="ac-rejected-title">{esc(m("docs.rejected_title"))}</div><ul>{items}</ul>'
        )
    parts.append("</div>")
    return "".join(parts)
