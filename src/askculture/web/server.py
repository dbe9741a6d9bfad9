"""Launching the chat: host, port and login from settings, the port checked, the server started.

``serve()`` (``python app.py`` / ``askculture serve``) prepares the index in the background —
building it from the bundled sample corpus when there is none yet, with progress on the console
and on the page — and starts the chat on 127.0.0.1:7860 unless told otherwise. Documents can be
added from the browser only when login is on or the server listens on localhost only.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import gradio as gr

from askculture.errors import ConfigError
from askculture.feedback import FeedbackStore
from askculture.settings import Settings
from askculture.web.app import CSS, HEAD, build_app
from askculture.web.conversations import ConversationStore
from askculture.web.engine import ChatEngine, log
from askculture.web.export import EXPORTS_DIR
from askculture.writing import model_name

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
CACHE_DIR = "web-cache"
"""The web server's own upload cache, inside the data folder."""
UPLOAD_HARD_LIMIT = 4
"""The web server refuses uploads this many times larger than ``app.max_upload_mb`` outright;
smaller ones reach the chat, which names each file it rejects and why."""


@dataclass(frozen=True)
class LaunchOptions:
    """Where and how the server listens, with warnings to print."""

    host: str
    port: int
    auth: tuple[str, str] | None
    warnings: tuple[str, ...] = ()
    uploads: bool = False


def launch_options(
    settings: Settings, host: str | None = None, port: int | None = None
) -> LaunchOptions:
    """Resolve host, port, login and whether uploads are allowed from arguments over settings.

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
    uploads = app.uploads and (auth is not None or host in LOCAL_HOSTS)
    return LaunchOptions(host, port, auth, tuple(warnings), uploads)


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
        ConfigError: Bad launch options, the port is taken, or ``answer.backend`` is "llm"
            without ``llm.model``.
    """
    settings = settings or Settings()
    opts = launch_options(settings, host, port)
    if settings.answer.backend == "llm":
        model, url = model_name(settings.llm), settings.llm.base_url
        log(f"answers written by {model} at {url}, checked against the quotes")
    for warning in opts.warnings:
        log(f"warning: {warning}")
    check_port(opts.host, opts.port)
    data_dir = Path(settings.app.data_dir)
    feedback = FeedbackStore.in_dir(data_dir)
    conversations = ConversationStore.in_dir(data_dir)
    # the web server keeps uploaded files in its cache: inside the data folder, like the rest
    os.environ["GRADIO_TEMP_DIR"] = str((data_dir / CACHE_DIR).resolve())
    engine = ChatEngine(Path(index_dir) if index_dir else settings.index.dir, settings, corpus)
    engine.start()
    demo = build_app(engine, feedback, conversations, allow_uploads=opts.uploads)
    demo.queue(max_size=settings.app.queue_size, default_concurrency_limit=1)
    try:
        _, url, _ = demo.launch(
            server_name=opts.host, server_port=opts.port, auth=opts.auth,
            auth_message="askculture: please log in." if opts.auth else None,
            prevent_thread_lock=not block, quiet=quiet, share=False, ssr_mode=False,
            footer_links=["api"], theme=theme(), css=CSS, head=HEAD, show_error=True,
            allowed_paths=[str((data_dir / EXPORTS_DIR).resolve())],  # the answers' downloads
            max_file_size=f"{UPLOAD_HARD_LIMIT * settings.app.max_upload_mb:g}mb",
        )  # fmt: skip
    except OSError as exc:
        raise ConfigError(f"cannot listen on {opts.host}:{opts.port}: {exc}") from exc
    return demo, engine, url
