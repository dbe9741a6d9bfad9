"""The web chat: a Gradio app over :func:`askculture.answering.ask`.

``serve()`` (``python app.py`` / ``askculture serve``) prepares the index in the background —
building it from the bundled sample corpus when there is none yet, with progress on the console
and on the page — and starts the chat on 127.0.0.1:7860 unless told otherwise.

Everything shown on the page that comes from a document or a user is escaped by
:mod:`askculture.render`; the chat never renders document text as HTML.
"""

from __future__ import annotations

import re
import socket
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import gradio as gr
from gradio.events import api as gr_api

from askculture.answering import Answer, ask
from askculture.errors import AskCultureError, ConfigError, IndexStoreError
from askculture.feedback import FeedbackStore
from askculture.render import (
    COPY_JS,
    CSS,
    HEADER_HTML,
    HELP_HTML,
    LANGUAGE_NAMES,
    Filters,
    answer_from_dict,
    answer_html,
    answer_json,
    answer_markdown,
    filters_html,
    make_filters,
    notice_html,
    question_html,
    status_html,
)
from askculture.retrieval import open_index
from askculture.settings import SAMPLE_CORPUS_DIR, Settings
from askculture.store import current_generation

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
EXAMPLES = (
    "Who signed the roadmap with GITIS?",
    "Кто возглавил заседание подкомиссии в Москве в октябре 2025 года?",
    "Жүргенов академиясы қай институтпен жол картасына қол қойды?",
)
HISTORY_TURNS = 4
"""Earlier turns passed to the answerer for follow-up questions."""


class NotReadyError(AskCultureError):
    """The index is still being built or loaded."""


def _log(message: str) -> None:
    print(f"askculture: {message}", file=sys.stderr, flush=True)


@dataclass
class Status:
    """Where the chat's index stands: starting, building, loading, ready or error."""

    phase: str = "starting"
    done: int = 0
    total: int = 0
    current: str = ""
    message: str = ""
    documents: int = 0
    languages: dict[str, int] = field(default_factory=dict)
    model: str = ""
    started: float = 0.0

    @property
    def ready(self) -> bool:
        """True when questions can be answered."""
        return self.phase == "ready"

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict (with ``ready``)."""
        return {**asdict(self), "ready": self.ready}


class ChatEngine:
    """The index behind the chat: builds it when missing, warms it up, answers questions.

    Args:
        index_dir: The index folder.
        settings: Settings.
        corpus: What to index when there is no index yet (default: the sample corpus).
        log: Where progress lines go (default: stderr).
    """

    def __init__(
        self,
        index_dir: Path,
        settings: Settings,
        corpus: Sequence[Path] | None = None,
        log: Callable[[str], None] = _log,
    ):
        self.index_dir = Path(index_dir)
        self.settings = settings
        self.corpus = list(corpus) if corpus is not None else [SAMPLE_CORPUS_DIR]
        self.log = log
        self._status = Status()
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._finished = threading.Event()
        self._thread: threading.Thread | None = None

    def status(self) -> Status:
        """A copy of the current status."""
        with self._lock:
            return replace(self._status, languages=dict(self._status.languages))

    def _set(self, **changes: Any) -> None:
        with self._lock:
            self._status = replace(self._status, **changes)

    def start(self, background: bool = True) -> None:
        """Prepare the index (build if missing, then load); in a thread unless ``background``."""
        if background:
            self._thread = threading.Thread(target=self._prepare, name="askculture-index")
            self._thread.daemon = True
            self._thread.start()
        else:
            self._prepare()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until preparing has finished (ready or failed); True when ready."""
        self._finished.wait(timeout)
        return self._ready.is_set()

    def _prepare(self) -> None:
        try:
            if current_generation(self.index_dir) is None:
                self._build()
            self._set(phase="loading", message="Loading the index and the embedding model…")
            retriever = open_index(self.index_dir, settings=self.settings)
            ask("warm up", self.index_dir, settings=self.settings)
            m = retriever.reader.manifest
            self._set(
                phase="ready", message="", documents=m.counts.get("documents", 0),
                languages=dict(m.languages), model=m.model,
            )  # fmt: skip
            self._ready.set()
            self.log(f"ready: {m.counts.get('documents', 0)} documents in {self.index_dir}")
        except AskCultureError as exc:
            self._set(phase="error", message=str(exc))
            self.log(f"error: the index could not be prepared: {exc}")
        except Exception as exc:  # the page must say why it cannot answer
            self._set(phase="error", message=f"{type(exc).__name__}: {exc}")
            self.log(f"error: the index could not be prepared: {exc!r}")
        finally:
            self._finished.set()

    def _build(self) -> None:
        from askculture.ingest import ingest

        names = ", ".join(str(p) for p in self.corpus)
        self.log(f"no index at {self.index_dir}; building it from {names} (first start only)")
        self._set(phase="building", message="Preparing the embedding model…", started=time.time())
        last = [0.0]

        def progress(done: int, total: int, path: str) -> None:
            name = Path(path).name if path else "committing"
            self._set(done=done, total=total, current=name, message="")
            now = time.monotonic()
            if done == total or now - last[0] > 2:
                last[0] = now
                self.log(f"indexing {done}/{total} files ({name})")

        report = ingest(self.corpus, self.index_dir, settings=self.settings, progress=progress)
        for s in report.skipped:
            self.log(f"skipped {s.path}: {s.reason}")
        self.log(f"indexed {report.documents_indexed} documents in {report.seconds:.0f}s")

    def publishers(self) -> list[str]:
        """Publishers in the index, most frequent first (empty until ready)."""
        if not self._ready.is_set():
            return []
        return open_index(self.index_dir, settings=self.settings).reader.sources()

    def ask(
        self, question: str, history: list[tuple[str, str]], filters: Filters, wait: float = 30
    ) -> Answer:
        """Answer a question; waits up to ``wait`` seconds while the index is loading.

        Raises:
            NotReadyError: The index is being built or could not be prepared.
            AskCultureError: The question or a filter is unusable.
        """
        if self.status().phase != "building":
            self._finished.wait(wait)
        if not self._ready.is_set():
            st = self.status()
            if st.phase == "error":
                raise NotReadyError(f"the index could not be prepared: {st.message}")
            progress = f" ({st.done} of {st.total} files)" if st.total else ""
            raise NotReadyError(
                f"the index is still being built{progress}; please ask again in a moment"
            )
        return ask(
            question, self.index_dir, history=history, date_from=filters.date_from or None,
            date_to=filters.date_to or None, lang=list(filters.languages) or None,
            source=list(filters.publishers) or None, settings=self.settings,
        )  # fmt: skip

    def document_texts(self, answer: Answer) -> dict[str, str | None]:
        """Full text of each cited document (``None`` when it is no longer in the index)."""
        reader = open_index(self.index_dir, settings=self.settings).reader
        texts: dict[str, str | None] = {}
        for c in answer.citations:
            try:
                texts[c.doc_id] = reader.document(c.doc_id).text
            except IndexStoreError:
                texts[c.doc_id] = None
        return texts


def _export_file(turn: Mapping[str, Any]) -> tuple[str, str]:
    """The Markdown of one answered turn, and a file holding it (for the download button)."""
    md = answer_markdown(
        answer_from_dict(turn["answer"]),
        filters=Filters.from_dict(turn["filters"]),
        asked_at=turn["asked_at"],
    )
    slug = re.sub(r"[^a-z0-9]+", "-", turn["question"].lower()).strip("-")[:48] or "answer"
    folder = Path(tempfile.gettempdir()) / "askculture-export" / turn["id"]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"askculture-{turn['asked_at'][:10]}-{slug}.md"
    path.write_text(md, encoding="utf-8")
    return md, str(path)


def build_app(
    engine: ChatEngine, settings: Settings | None = None, feedback: FeedbackStore | None = None
) -> gr.Blocks:
    """The Gradio Blocks app of the chat.

    Args:
        engine: The prepared (or preparing) index.
        settings: Settings (default: the engine's).
        feedback: Where ratings go (default: in ``settings.app.data_dir``).
    """
    settings = settings or engine.settings
    store = feedback or FeedbackStore.in_dir(settings.app.data_dir)
    max_chars = settings.app.max_question_chars
    keep = gr.skip()

    def check_length(question: str) -> None:
        if len(question) > max_chars:
            raise ConfigError(
                f"Your question is {len(question):,} characters long; the limit is "
                f"{max_chars:,}. Please shorten it."
            )

    def respond(
        question: str,
        messages: list[dict[str, Any]],
        turns: list[dict[str, Any]],
        *filter_values: Any,
    ) -> Iterator[tuple[Any, ...]]:
        messages, turns, question = list(messages or []), list(turns or []), question or ""
        if not question.strip():
            gr.Warning("Type a question first.")
            yield question, messages, turns, keep, keep, keep
            return
        messages.append({"role": "user", "content": question_html(question)})
        try:
            check_length(question)
            filters = make_filters(*filter_values)
        except ConfigError as exc:
            messages.append({"role": "assistant", "content": notice_html(str(exc), "refused")})
            yield question, messages, turns, keep, keep, keep
            return
        pending = notice_html("Searching the documents…", "pending")
        messages.append({"role": "assistant", "content": pending})
        yield "", messages, turns, keep, keep, keep
        history = [(t["question"], t["answer"]["text"]) for t in turns][-HISTORY_TURNS:]
        try:
            answer = engine.ask(question, history, filters)
        except AskCultureError as exc:
            text = str(exc)
            text = text[:1].upper() + text[1:]
            messages[-1] = {"role": "assistant", "content": notice_html(text, "error")}
            yield question, messages, turns, keep, keep, keep
            return
        turn = {
            "id": uuid.uuid4().hex, "question": question, "answer": answer.to_dict(),
            "filters": filters.to_dict(), "message_index": len(messages) - 1,
            "asked_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        }  # fmt: skip
        texts = engine.document_texts(answer)
        html = answer_html(answer, texts, turn=len(turns) + 1, filters=filters)
        messages[-1] = {"role": "assistant", "content": html}
        turns.append(turn)
        md, path = _export_file(turn)
        choices = [(f"{i}. {t['question'][:70]}", t["id"]) for i, t in enumerate(turns, 1)]
        yield (
            "", messages, turns, gr.update(choices=choices, value=turn["id"]), md,
            gr.update(value=path, interactive=True),
        )  # fmt: skip

    def choose_export(turn_id: str | None, turns: list[dict[str, Any]]) -> tuple[Any, Any]:
        turn = next((t for t in turns or [] if t["id"] == turn_id), None)
        if turn is None:
            return "", gr.update(value=None, interactive=False)
        md, path = _export_file(turn)
        return md, gr.update(value=path, interactive=True)

    def rate(turns: list[dict[str, Any]], data: gr.LikeData) -> None:
        index = data.index[0] if isinstance(data.index, (list, tuple)) else data.index
        turn = next((t for t in turns or [] if t["message_index"] == index), None)
        if turn is None or not isinstance(data.liked, bool):
            return
        ans = turn["answer"]
        try:
            store.record(
                turn["id"], liked=data.liked, question=turn["question"], answer=ans["text"],
                sources=ans["citations"], abstained=ans["abstained"], filters=turn["filters"],
            )  # fmt: skip
        except AskCultureError as exc:
            gr.Warning(f"Your rating could not be saved: {exc}")
            return
        gr.Info("Thanks — your rating was saved.")

    def reset_chat() -> tuple[Any, ...]:
        return [], [], gr.update(choices=[], value=None), "", gr.update(value=None, interactive=False)  # fmt: skip  # noqa: E501

    def refresh_status() -> tuple[Any, Any, Any]:
        st = engine.status()
        pubs = gr.update(choices=engine.publishers()) if st.ready else keep
        busy = st.phase in {"starting", "building", "loading"}
        return status_html(st.to_dict()), pubs, gr.Timer(active=busy)

    def api_ask(
        question: str,
        history: list[list[str]] | None = None,
        date_from: str = "",
        date_to: str = "",
        languages: list[str] | None = None,
        publishers: list[str] | None = None,
    ) -> dict[str, Any]:
        """Answer a question from the documents, with verbatim citations.

        Returns a dict: question, text (with [n] markers), abstained, citations (n, doc_id,
        title, date, source, url, file, lang, quote, start, end) and passages.
        """
        try:
            check_length(question or "")
            filters = make_filters(date_from, date_to, languages, publishers)
            pairs = [(str(h[0]), str(h[1])) for h in history or [] if len(h) >= 2]
            return answer_json(engine.ask(question, pairs, filters))
        except AskCultureError as exc:
            raise gr.Error(str(exc)) from exc

    def api_status() -> dict[str, Any]:
        """Whether the index is ready (phase, progress) and what it holds."""
        return engine.status().to_dict()

    with gr.Blocks(title="askculture — cited answers", analytics_enabled=False) as demo:
        gr.HTML(HEADER_HTML)
        status = gr.HTML(status_html(engine.status().to_dict()), elem_id="ac-status")
        turns_state = gr.State([])
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=480):
                chatbot = gr.Chatbot(
                    label="Conversation", elem_id="ac-chat", height="58vh", min_height=360,
                    latex_delimiters=[], sanitize_html=True, buttons=[], layout="panel",
                    placeholder="Ask a question below, or try one of the examples.",
                )  # fmt: skip
                with gr.Row(equal_height=True):
                    question = gr.Textbox(
                        show_label=False, lines=1, max_lines=6, scale=6, elem_id="ac-question",
                        placeholder=f"Ask in English, Russian or Kazakh (up to {max_chars:,} "
                        "characters)…", autofocus=True,
                    )  # fmt: skip
                    ask_btn = gr.Button(
                        "Ask", variant="primary", scale=0, min_width=90, elem_id="ac-ask"
                    )
                filter_summary = gr.HTML(filters_html("", "", [], []), elem_id="ac-filter-line")
                with gr.Row(elem_id="ac-examples"):
                    examples = [
                        gr.Button(q, size="sm", elem_classes=["ac-example"]) for q in EXAMPLES
                    ]
            with gr.Column(scale=1, min_width=300, elem_id="ac-side"):
                with gr.Column(variant="panel", elem_id="ac-filters"):
                    gr.HTML('<div class="ac-side-title">Filters</div>')
                    with gr.Row():
                        date_from = gr.Textbox(
                            label="From", placeholder="2024 or 2024-05-13", elem_id="ac-date-from"
                        )
                        date_to = gr.Textbox(
                            label="To", placeholder="2025-12-31", elem_id="ac-date-to"
                        )
                    langs = gr.CheckboxGroup(
                        [(name, code) for code, name in LANGUAGE_NAMES.items()],
                        value=list(LANGUAGE_NAMES), label="Languages", elem_id="ac-langs",
                    )  # fmt: skip
                    pubs = gr.Dropdown(
                        choices=engine.publishers(), value=[], multiselect=True, label="Publishers",
                        info="Empty = all publishers", elem_id="ac-publishers",
                    )  # fmt: skip
                    reset_filters = gr.Button("Clear filters", size="sm", elem_id="ac-reset")
                with gr.Column(variant="panel", elem_id="ac-export"):
                    gr.HTML('<div class="ac-side-title">Export for journalists</div>')
                    export_choice = gr.Dropdown(
                        choices=[], label="Answer", elem_id="ac-export-choice"
                    )
                    with gr.Row():
                        download = gr.DownloadButton(
                            "Download .md", size="sm", interactive=False, elem_id="ac-download"
                        )
                        copy_btn = gr.Button("Copy Markdown", size="sm", elem_id="ac-copy")
                    with gr.Accordion("Markdown preview", open=False):
                        export_md = gr.Textbox(
                            show_label=False, lines=8, max_lines=16, interactive=False,
                            buttons=["copy"], elem_id="ac-markdown",
                        )  # fmt: skip
                new_chat = gr.Button("New conversation", size="sm", elem_id="ac-new")
                gr.HTML(HELP_HTML)
        timer = gr.Timer(1.0, active=not engine.status().ready)

        filter_inputs = [date_from, date_to, langs, pubs]
        chat_in = [question, chatbot, turns_state, *filter_inputs]
        chat_out = [question, chatbot, turns_state, export_choice, export_md, download]
        reset_out = [chatbot, turns_state, export_choice, export_md, download]
        private: dict[str, Any] = {"api_visibility": "private"}
        answering: dict[str, Any] = {
            "concurrency_id": "answer", "show_progress": "minimal", **private,
        }  # fmt: skip
        gr.on([question.submit, ask_btn.click], respond, chat_in, chat_out, **answering)
        for button, text in zip(examples, EXAMPLES, strict=True):
            button.click(lambda t=text: t, None, question, queue=False, **private).then(
                respond, chat_in, chat_out, **answering
            )
        filter_changes = [date_from.change, date_to.change, langs.change, pubs.change]
        gr.on(filter_changes, filters_html, filter_inputs, filter_summary, queue=False, **private)
        reset_filters.click(
            lambda: ("", "", list(LANGUAGE_NAMES), []), None, filter_inputs, queue=False, **private
        )
        export_choice.input(choose_export, [export_choice, turns_state], [export_md, download], **private)  # fmt: skip  # noqa: E501
        copy_btn.click(None, [export_md], None, js=COPY_JS, **private)
        gr.on([new_chat.click, chatbot.clear], reset_chat, None, reset_out, queue=False, **private)
        chatbot.like(rate, [turns_state], None, queue=False, **private)
        gr.on([timer.tick, demo.load], refresh_status, None, [status, pubs, timer], queue=False, **private)  # fmt: skip  # noqa: E501
        gr_api(api_ask, api_name="ask", concurrency_id="answer")
        gr_api(api_status, api_name="status", queue=False)
    app: gr.Blocks = demo
    return app


@dataclass(frozen=True)
class LaunchOptions:
    """Where and how the server listens, with warnings to print."""

    host: str
    port: int
    auth: tuple[str, str] | None
    warnings: tuple[str, ...] = ()


def launch_options(
    settings: Settings, host: str | None = None, port: int | None = None
) -> LaunchOptions:
    """Resolve host, port and login from arguments over settings.

    Raises:
        ConfigError: Only one of login name and password is set, or the port is out of range.
    """
    app = settings.app
    host = (host or app.host).strip()
    port = app.port if port is None else port
    if not 0 < port < 65536:
        raise ConfigError(f"port must be between 1 and 65535 (got {port})")
    password = app.auth_password.get_secret_value() if app.auth_password else None
    if bool(app.auth_user) != bool(password):
        raise ConfigError(
            "set both ASKCULTURE_APP__AUTH_USER and ASKCULTURE_APP__AUTH_PASSWORD to require a "
            "login, or neither"
        )
    auth = (app.auth_user, password) if app.auth_user and password else None
    warnings = []
    if host not in LOCAL_HOSTS:
        warnings.append(
            f"listening on {host}: the chat is reachable from other machines"
            + ("" if auth else " and requires no login (set ASKCULTURE_APP__AUTH_USER/_PASSWORD)")
        )
    return LaunchOptions(host, port, auth, tuple(warnings))


def check_port(host: str, port: int) -> None:
    """Raise :class:`ConfigError` unless ``host:port`` can be listened on."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        with socket.socket(family, kind, proto) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server does
            sock.bind(address)
    except OSError as exc:
        raise ConfigError(
            f"cannot listen on {host}:{port} ({exc.strerror or exc}); is another server running "
            "there? Choose another port with --port or ASKCULTURE_APP__PORT"
        ) from exc


def theme() -> gr.themes.Base:
    """A sober theme with system fonts (nothing fetched from the internet)."""
    return gr.themes.Default(
        primary_hue="blue", neutral_hue="slate", radius_size="sm",
        font=("ui-sans-serif", "system-ui", "Segoe UI", "Roboto", "sans-serif"),
        font_mono=("ui-monospace", "SFMono-Regular", "Menlo", "monospace"),
    )  # fmt: skip


def serve(
    index_dir: str | Path | None = None,
    host: str | None = None,
    port: int | None = None,
    settings: Settings | None = None,
    *,
    corpus: Sequence[Path] | None = None,
    block: bool = True,
    quiet: bool = False,
) -> tuple[gr.Blocks, ChatEngine, str]:
    """Start the web chat.

    Args:
        index_dir: The index folder (default: settings ``index.dir``); built when missing.
        host: Bind address (default: settings ``app.host``, 127.0.0.1).
        port: Port (default: settings ``app.port``, 7860).
        settings: Settings (default: from the environment).
        corpus: What to index when there is no index (default: the bundled sample corpus).
        block: Serve until interrupted; False returns once the server is up (for tests).
        quiet: Do not print the URL banner.

    Returns:
        The app, its engine and the local URL (when ``block`` is False).

    Raises:
        ConfigError: Bad launch options or the port is taken.
    """
    settings = settings or Settings()
    opts = launch_options(settings, host, port)
    for warning in opts.warnings:
        _log(f"warning: {warning}")
    check_port(opts.host, opts.port)
    store = FeedbackStore.in_dir(settings.app.data_dir)
    engine = ChatEngine(Path(index_dir) if index_dir else settings.index.dir, settings, corpus)
    engine.start()
    demo = build_app(engine, settings, store)
    demo.queue(max_size=settings.app.queue_size, default_concurrency_limit=1)
    try:
        _, url, _ = demo.launch(
            server_name=opts.host, server_port=opts.port, auth=opts.auth,
            auth_message="askculture: please log in." if opts.auth else None,
            prevent_thread_lock=not block, quiet=quiet, share=False, ssr_mode=False,
            footer_links=["api"], theme=theme(), css=CSS, show_error=True,
        )  # fmt: skip
    except OSError as exc:
        raise ConfigError(f"cannot listen on {opts.host}:{opts.port}: {exc}") from exc
    return demo, engine, url
