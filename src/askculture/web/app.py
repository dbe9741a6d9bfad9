"""The Gradio app of the chat: layout, and the handlers that connect it to the engine and stores.

Every visible string comes from the message catalogue (:mod:`.i18n`); the page's language follows
the browser's ``Accept-Language`` until the user picks another with the switch (kept in the
browser). Everything shown that comes from a document or a user is escaped by :mod:`.render`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from importlib.resources import files
from pathlib import Path
from typing import Any

import gradio as gr
from gradio.events import api as gr_api

from askculture.errors import AskCultureError, ConfigError
from askculture.feedback import FeedbackStore
from askculture.web.conversations import ConversationStore, Turn, valid_browser_id
from askculture.web.documents_page import DocumentsPage
from askculture.web.engine import ChatEngine, log
from askculture.web.export import EXPORTS_DIR, answer_markdown, export_file
from askculture.web.filters import LANGUAGE_NAMES, FilterError, Filters, filters_html, make_filters
from askculture.web.i18n import Messages, messages, negotiate, supported
from askculture.web.layout import EXAMPLES, Localized, layout
from askculture.web.publishers import choices as publisher_choices
from askculture.web.render import (
    answer_from_dict,
    answer_json,
    document_html,
    draft_html,
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
from askculture.web.written import Throttle, Writing, history_text
from askculture.writing import Reply

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
            writing=Writing.of(turn.body),
        )  # fmt: skip
        path = export_file(data_dir / EXPORTS_DIR / turn.id, turn.question, turn.asked_at, md)
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

    def answer_turn(question: str, turns: list[Turn], filters: Filters) -> Iterator[str | Turn]:
        """The answering step: a question (with the conversation before it) → the written
        answer's draft as it grows (from ``""`` when writing starts), then the kept turn."""
        history = [(t.question, history_text(t.body)) for t in turns if t.kind == "answer"]
        draft, shown = "", Throttle()
        try:
            for item in engine.reply(question, history[-HISTORY_TURNS:], filters):
                if isinstance(item, Reply):
                    yield Turn(question, "answer", item.to_dict(), filters.to_dict())
                elif isinstance(item, str):
                    draft += item
                    if shown():
                        yield draft
                elif settings.answer.backend == "llm" and not item.abstained:
                    yield draft  # the evidence is found; the model starts writing
        except AskCultureError as exc:
            yield Turn(question, "error", notice_body(exc), filters.to_dict())

    def respond(
        question: str, turns_data: list[dict[str, Any]], conv: str | None, browser: str,
        lang: str, *filter_values: Any,
    ) -> Iterator[tuple[Any, ...]]:  # fmt: skip
        """Yields the chat as it changes: the question with a pending reply, the written
        answer's draft as it streams in (marked as not yet checked), then the kept turn."""
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
            shown = [
                *chat_messages(turns, doc_texts, m),
                {"role": "user", "content": user_html(question)},
            ]

            def pending(html: str) -> tuple[Any, ...]:
                return ("", [*shown, {"role": "assistant", "content": html}], *(keep,) * 6)

            yield pending(notice_html(m("chat.searching"), "pending"))
            for item in answer_turn(question, turns, filters):
                if isinstance(item, Turn):
                    turn = item
                else:
                    yield pending(draft_html(item, m))
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

    def polling() -> Any:
        """The status poll: on while the index is being built or loaded."""
        return gr.Timer(active=engine.status().phase in {"starting", "building", "loading"})

    def refresh_status(lang: str) -> tuple[Any, Any, Any]:
        m, st = messages(lang), engine.status()
        pubs = publishers_update(m) if st.ready else keep
        return status_html(st.to_dict(), m), pubs, polling()

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

        Returns a dict: question, text (with [n] markers: written by the model when written is
        true, else the quotes), written, backend ("extractive" or "llm"), model, notice (why a
        written answer is not shown), fallback, quoted_text, first_token_ms, write_ms,
        abstained, short_answer, short_answer_n, citations (n, doc_id, title, date, source, url,
        file, lang, quote, start, end) and passages. A publisher stands for all its names (in
        every language).
        """
        try:
            filters = check(question or "", (date_from, date_to, languages, publishers))
            pairs = [(str(h[0]), str(h[1])) for h in history or [] if len(h) >= 2]
            return answer_json(engine.answer(question, pairs, filters))
        except AskCultureError as exc:
            body = notice_body(exc)
            text = notice_text(body, Messages()) if isinstance(exc, FilterError) else str(exc)
            text = text[:1].upper() + text[1:]
            log(f"refused /ask: {text}")
            raise gr.Error(text, print_exception=False) from None

    def api_status() -> dict[str, Any]:
        """Whether the index is ready (phase, progress) and what it holds."""
        return engine.status().to_dict()

    with gr.Blocks(title="askculture", analytics_enabled=False, delete_cache=(3600, 86400)) as demo:
        loc = Localized()
        st = engine.status()
        p = layout(loc, settings, status_html(st.to_dict()), allow_uploads)
        docs = DocumentsPage(
            engine, data_dir, settings.app.max_upload_mb, settings.app.max_upload_files,
            allow_uploads,
        )  # fmt: skip

        def page(
            m: Messages,
            turns: list[Turn],
            conv: str | None,
            browser: str,
            filter_values: Sequence[Any],
        ) -> list[Any]:
            return [
                m.lang, status_html(engine.status().to_dict(), m),
                publishers_update(m), filters_html(m, *filter_values),
                *conversation_outputs(turns, conv, browser, m),
                *loc.updates(m, {p.ui_lang: {"value": m.lang}}),
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

        def after_change(lang: str) -> list[Any]:
            m = messages(lang)
            status = status_html(engine.status().to_dict(), m)
            return [*docs.table(m), status, publishers_update(m)]

        private: dict[str, Any] = {"api_visibility": "private"}
        quick: dict[str, Any] = {"queue": False, **private}
        answering: dict[str, Any] = {
            "concurrency_id": "answer",
            "show_progress": "minimal",
            **private,
        }
        conv_out = [
            p.chatbot,
            p.turns,
            p.conversation,
            p.conv_list,
            p.export_choice,
            p.export_md,
            p.download,
        ]
        chat_in = [p.question, p.turns, p.conversation, p.browser, p.lang, *p.filters]
        gr.on(
            [p.question.submit, p.ask.click], respond, chat_in, [p.question, *conv_out], **answering
        )
        for button, text in zip(p.examples, EXAMPLES, strict=True):
            button.click(lambda t=text: t, None, p.question, **quick).then(
                respond, chat_in, [p.question, *conv_out], **answering
            )
        filter_changes = [p.date_from.change, p.date_to.change, p.langs.change, p.pubs.change]
        show_filters = lambda lang, *v: filters_html(messages(lang), *v)  # noqa: E731
        gr.on(filter_changes, show_filters, [p.lang, *p.filters], p.filter_line, **quick)
        p.reset_filters.click(lambda: ("", "", list(LANGUAGE_NAMES), []), None, p.filters, **quick)
        p.export_choice.input(
            choose_export, [p.export_choice, p.turns, p.lang], [p.export_md, p.download], **private
        )
        p.copy.click(None, [p.export_md], None, js=COPY_JS, **private)
        p.new_chat.click(new_conversation, [p.browser, p.lang], conv_out, **quick)
        p.conv_list.input(open_conversation, [p.conv_list, p.browser, p.lang], conv_out, **private)
        p.delete_conv.click(
            delete_conversation, [p.conversation, p.browser, p.lang], conv_out, **private
        )
        p.chatbot.like(
            rate, [p.turns, p.lang], [p.comment_group, p.comment_target, p.comment_box], **private
        )
        p.comment_send.click(
            send_comment,
            [p.comment_target, p.comment_box, p.lang],
            [p.comment_group, p.comment_box],
            **private,
        )
        p.timer.tick(refresh_status, [p.lang], [p.status, p.pubs, p.timer], **quick)
        page_out = [p.lang, p.status, p.pubs, p.filter_line, *conv_out, *loc.components]
        demo.load(on_load, [p.lang, p.browser], [p.browser, *page_out], js=LOAD_JS, **private).then(
            None, [p.lang], None, js="(l) => { document.documentElement.lang = l; }", **private
        ).then(polling, None, p.timer, **quick)  # its ticks carry the page's language
        switch_in = [p.ui_lang, p.turns, p.conversation, p.browser, *p.filters]
        p.ui_lang.input(switch_language, switch_in, page_out, **private).then(
            None, [p.lang], None, js=SET_LANG_JS, **private
        )
        changed = [p.doc_count, p.doc_table, p.remove_choice, p.status, p.pubs]
        p.docs_tab.select(docs.show, [p.lang], changed[:3], **private)
        documents: dict[str, Any] = {"concurrency_id": "documents", **private}
        p.upload_go.click(
            docs.add, [p.upload, p.lang], [p.upload_report, p.upload], **documents
        ).then(after_change, [p.lang], changed, **private)
        p.remove.click(docs.remove, [p.remove_choice, p.lang], p.remove_report, **documents).then(
            after_change, [p.lang], changed, **private
        )
        p.open_go.click(
            open_document, [p.open_doc, p.turns, p.lang], [p.viewer, p.viewer_doc], **private
        )
        p.viewer_close.click(lambda: gr.update(visible=False), None, p.viewer, **quick)
        gr_api(api_ask, api_name="ask", concurrency_id="answer")
        gr_api(api_status, api_name="status", queue=False)
    app: gr.Blocks = demo
    return app
