"""The chat's page: its components, laid out, every text from the message catalogue.

:class:`Localized` creates a component with its texts in English and remembers which catalogue
keys they came from, so that :meth:`Localized.updates` can relabel the whole page in another
language. :func:`layout` builds the page inside a ``gr.Blocks`` and returns its components
(:class:`Page`) for :mod:`.app` to connect.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import gradio as gr

from askculture.settings import Settings
from askculture.web.filters import LANGUAGE_NAMES, filters_html
from askculture.web.i18n import Messages, languages
from askculture.web.render import esc, notice_html

EXAMPLES = (
    "Who signed the roadmap with GITIS?",
    "Кто возглавил заседание подкомиссии в Москве в октябре 2025 года?",
    "Жүргенов академиясы қай институтпен жол картасына қол қойды?",
)
Text = str | Callable[[Messages], str]
"""A catalogue key, or a function of the messages (for texts wrapped in HTML)."""


def header_html(m: Messages, written: bool = False) -> str:
    """The page's title and what the tool does (``written``: a model writes the answers)."""
    tagline = esc(m("header.tagline_written" if written else "header.tagline"))
    return f'<div class="ac-header"><div><h1>askculture</h1><p>{tagline}</p></div></div>'


def side_title(key: str) -> Callable[[Messages], str]:
    """A panel's title, from catalogue key ``key``."""
    return lambda m: f'<div class="ac-side-title">{esc(m(key))}</div>'


def try_html(m: Messages) -> str:
    """The word before the example questions."""
    return f'<span class="ac-try">{esc(m("examples.label"))}</span>'


class Localized:
    """Makes components whose texts come from the catalogue; relabels them all at once."""

    def __init__(self) -> None:
        self.items: list[tuple[Any, Mapping[str, Text]]] = []

    @staticmethod
    def text(text: Text, m: Messages) -> str:
        """A text in ``m``'s language."""
        return m(text) if isinstance(text, str) else text(m)

    def __call__(
        self, factory: Callable[..., Any], texts: Mapping[str, Text], **kwargs: Any
    ) -> Any:
        """``factory(**kwargs)`` with its texts (``{"label": "filters.from", ...}``) in English."""
        en = Messages()
        component = factory(**{k: self.text(v, en) for k, v in texts.items()}, **kwargs)
        self.items.append((component, texts))
        return component

    @property
    def components(self) -> list[Any]:
        """Every localized component, in creation order."""
        return [c for c, _ in self.items]

    def updates(self, m: Messages, extra: Mapping[Any, dict[str, Any]] | None = None) -> list[Any]:
        """Updates giving every localized component its texts in ``m``'s language.

        Args:
            m: The messages.
            extra: More changes for some of the components (e.g. a value), by component.
        """
        updates = []
        for component, texts in self.items:
            values: dict[str, Any] = {k: self.text(v, m) for k, v in texts.items()}
            values.update((extra or {}).get(component, {}))
            updates.append(gr.update(**values))
        return updates


@dataclass
class Page:
    """The components the handlers read and write."""

    lang: Any
    browser: Any
    conversation: Any
    turns: Any
    comment_target: Any
    ui_lang: Any
    status: Any
    conv_list: Any
    new_chat: Any
    delete_conv: Any
    chatbot: Any
    comment_group: Any
    comment_box: Any
    comment_send: Any
    question: Any
    ask: Any
    filter_line: Any
    examples: list[Any]
    date_from: Any
    date_to: Any
    langs: Any
    pubs: Any
    reset_filters: Any
    export_choice: Any
    download: Any
    copy: Any
    export_md: Any
    docs_tab: Any
    upload: Any
    upload_go: Any
    upload_report: Any
    remove_choice: Any
    remove: Any
    remove_report: Any
    doc_count: Any
    doc_table: Any
    viewer: Any
    viewer_close: Any
    viewer_doc: Any
    open_doc: Any
    open_go: Any
    timer: Any

    @property
    def filters(self) -> list[Any]:
        """The filter inputs, in :func:`~askculture.web.filters.make_filters` order."""
        return [self.date_from, self.date_to, self.langs, self.pubs]


def layout(loc: Localized, settings: Settings, status_html: str, allow_uploads: bool) -> Page:
    """Lay the page out (inside ``gr.Blocks``); texts in English until the page is relabelled.

    Args:
        loc: Collects the localized components.
        settings: Settings (question and upload limits).
        status_html: The index status line to start with.
        allow_uploads: Show the controls that add and remove documents.
    """
    en = Messages()
    max_chars = f"{settings.app.max_question_chars:,}"
    limits = {"count": settings.app.max_upload_files, "mb": f"{settings.app.max_upload_mb:g}"}
    # hidden boxes, not gr.State: the browser's script reads and fills them
    with gr.Row(elem_classes=["ac-hidden"]):
        lang = gr.Textbox("en", elem_id="ac-lang-code", show_label=False)
        browser = gr.Textbox("", elem_id="ac-browser", show_label=False)
        open_doc = gr.Textbox(elem_id="ac-open-doc", show_label=False)
        open_go = gr.Button("open", elem_id="ac-open-doc-go")
    conversation, turns, comment_target = gr.State(None), gr.State([]), gr.State(None)
    with gr.Row(equal_height=False):
        with gr.Column(scale=4):
            written = settings.answer.backend == "llm"
            loc(gr.HTML, {"value": lambda m: header_html(m, written)})
        with gr.Column(scale=1, min_width=260):
            ui_lang = loc(
                gr.Radio,
                {"label": "ui.language"},
                elem_id="ac-ui-lang",
                value="en",
                choices=[(name, code) for code, name in languages().items()],
            )
    status = gr.HTML(status_html, elem_id="ac-status")
    with gr.Tabs(elem_id="ac-tabs"):
        chat_tab = loc(gr.Tab, {"label": "tab.chat"}, id="chat", elem_id="ac-tab-chat")
        with chat_tab, gr.Row(equal_height=False):
            with gr.Column(scale=1, min_width=220, elem_id="ac-conv-col"):
                loc(gr.HTML, {"value": side_title("conv.title")})
                new_chat = loc(
                    gr.Button,
                    {"value": "conv.new"},
                    size="sm",
                    variant="primary",
                    elem_id="ac-new",
                )
                conv_list = loc(
                    gr.Radio,
                    {"label": "conv.title"},
                    choices=[],
                    show_label=False,
                    elem_id="ac-conversations",
                )
                delete_conv = loc(
                    gr.Button,
                    {"value": "conv.delete"},
                    size="sm",
                    variant="stop",
                    elem_id="ac-delete-conv",
                )
            with gr.Column(scale=4, min_width=480):
                chatbot = loc(
                    gr.Chatbot,
                    {"label": "chat.label", "placeholder": "chat.placeholder"},
                    show_label=False,
                    elem_id="ac-chat",
                    height="60vh",
                    min_height=360,
                    latex_delimiters=[],
                    sanitize_html=True,
                    buttons=[],
                    layout="panel",
                    autoscroll=False,
                )
                with gr.Column(
                    visible=False, variant="panel", elem_id="ac-comment"
                ) as comment_group:
                    comment_box = loc(
                        gr.Textbox,
                        {
                            "label": "feedback.comment_label",
                            "placeholder": "feedback.comment_placeholder",
                        },
                        lines=2,
                        max_lines=6,
                        elem_id="ac-comment-text",
                    )
                    comment_send = loc(
                        gr.Button,
                        {"value": "feedback.comment_send"},
                        size="sm",
                        elem_id="ac-comment-send",
                    )
                with gr.Row(equal_height=True):
                    question = loc(
                        gr.Textbox,
                        {
                            "label": "question.label",
                            "placeholder": lambda m: m("question.placeholder", max=max_chars),
                        },
                        show_label=False,
                        lines=1,
                        max_lines=6,
                        scale=6,
                        elem_id="ac-question",
                        autofocus=True,
                    )
                    ask = loc(
                        gr.Button,
                        {"value": "ask.button"},
                        variant="primary",
                        scale=0,
                        min_width=90,
                        elem_id="ac-ask",
                    )
                filter_line = gr.HTML(filters_html(en, "", "", [], []), elem_id="ac-filter-line")
                with gr.Row(elem_id="ac-examples"):
                    loc(gr.HTML, {"value": try_html}, elem_classes=["ac-try"])
                    examples = [
                        gr.Button(q, size="sm", elem_classes=["ac-example"]) for q in EXAMPLES
                    ]
            with gr.Column(scale=2, min_width=300, elem_id="ac-side"):
                with gr.Column(variant="panel", elem_id="ac-filters"):
                    loc(gr.HTML, {"value": side_title("filters.title")})
                    with gr.Row():
                        date_from = loc(
                            gr.Textbox,
                            {
                                "label": "filters.from",
                                "placeholder": "filters.from_placeholder",
                            },
                            elem_id="ac-date-from",
                        )
                        date_to = loc(
                            gr.Textbox,
                            {"label": "filters.to", "placeholder": "filters.to_placeholder"},
                            elem_id="ac-date-to",
                        )
                    langs = loc(
                        gr.CheckboxGroup,
                        {"label": "filters.languages", "info": "filters.languages_info"},
                        choices=[(name, code) for code, name in LANGUAGE_NAMES.items()],
                        value=list(LANGUAGE_NAMES),
                        elem_id="ac-langs",
                    )
                    pubs = loc(
                        gr.Dropdown,
                        {"label": "filters.publishers", "info": "filters.publishers_info"},
                        choices=[],
                        value=[],
                        multiselect=True,
                        elem_id="ac-publishers",
                    )
                    reset_filters = loc(
                        gr.Button, {"value": "filters.clear"}, size="sm", elem_id="ac-reset"
                    )
                with gr.Column(variant="panel", elem_id="ac-export"):
                    loc(gr.HTML, {"value": side_title("export.title")})
                    export_choice = loc(
                        gr.Dropdown,
                        {"label": "export.answer"},
                        choices=[],
                        elem_id="ac-export-choice",
                    )
                    with gr.Row():
                        download = loc(
                            gr.DownloadButton,
                            {"label": "export.download"},
                            size="sm",
                            interactive=False,
                            elem_id="ac-download",
                        )
                        copy = loc(
                            gr.Button, {"value": "export.copy"}, size="sm", elem_id="ac-copy"
                        )
                    with loc(gr.Accordion, {"label": "export.preview"}, open=False):
                        export_md = gr.Textbox(
                            show_label=False,
                            lines=8,
                            max_lines=16,
                            interactive=False,
                            buttons=["copy"],
                            elem_id="ac-markdown",
                        )
                loc(
                    gr.HTML,
                    {"value": lambda m: f'<div class="ac-help">{esc(m("help.text"))}</div>'},
                )
        with loc(
            gr.Tab, {"label": "tab.documents"}, id="documents", elem_id="ac-tab-docs"
        ) as docs_tab:
            with gr.Column(variant="panel", visible=allow_uploads, elem_id="ac-add-docs"):
                loc(gr.HTML, {"value": side_title("docs.add_title")})
                upload = loc(
                    gr.File,
                    {"label": lambda m: m("docs.upload_label", **limits)},
                    file_count="multiple",
                    elem_id="ac-upload",
                )
                upload_go = loc(
                    gr.Button,
                    {"value": "docs.upload_button"},
                    variant="primary",
                    elem_id="ac-upload-go",
                )
                upload_report = gr.HTML("", elem_id="ac-upload-report")
                with gr.Row(equal_height=True):
                    remove_choice = loc(
                        gr.Dropdown,
                        {"label": "docs.remove_label"},
                        choices=[],
                        scale=4,
                        elem_id="ac-remove-choice",
                    )
                    remove = loc(
                        gr.Button,
                        {"value": "docs.remove_button"},
                        variant="stop",
                        scale=1,
                        elem_id="ac-remove",
                    )
                remove_report = gr.HTML("", elem_id="ac-remove-report")
            if not allow_uploads:
                loc(gr.HTML, {"value": lambda m: notice_html(m("docs.disabled"))})
            loc(gr.HTML, {"value": side_title("docs.title")})
            doc_count = gr.HTML("", elem_id="ac-doc-count")
            doc_table = gr.Dataframe(
                interactive=False,
                wrap=True,
                max_height=600,
                elem_id="ac-doc-table",
                column_widths=["40%", "10%", "10%", "25%", "15%"],
            )
    with gr.Column(visible=False, elem_id="ac-viewer") as viewer:
        viewer_close = loc(
            gr.Button, {"value": "viewer.close"}, size="sm", elem_id="ac-viewer-close"
        )
        viewer_doc = gr.HTML("", elem_id="ac-viewer-doc")
    # started by the page once it has its language (a tick sent before would answer in English)
    timer = gr.Timer(1.0, active=False)
    return Page(
        lang,
        browser,
        conversation,
        turns,
        comment_target,
        ui_lang,
        status,
        conv_list,
        new_chat,
        delete_conv,
        chatbot,
        comment_group,
        comment_box,
        comment_send,
        question,
        ask,
        filter_line,
        examples,
        date_from,
        date_to,
        langs,
        pubs,
        reset_filters,
        export_choice,
        download,
        copy,
        export_md,
        docs_tab,
        upload,
        upload_go,
        upload_report,
        remove_choice,
        remove,
        remove_report,
        doc_count,
        doc_table,
        viewer,
        viewer_close,
        viewer_doc,
        open_doc,
        open_go,
        timer,
    )
