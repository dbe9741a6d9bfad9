"""The web chat (Gradio): ``serve()`` starts it; see :mod:`askculture.web.server`.

Modules: ``server`` (launch), ``layout`` (the page), ``app`` (its handlers), ``documents_page``,
``engine`` (the index behind the chat), ``render``/``answer_view``/``turns``/``export`` (what is
shown), ``i18n`` + ``locales/`` (the message catalogue), ``filters`` and ``publishers``,
``conversations`` (kept per browser), ``uploads`` (documents added from the browser).
"""

from __future__ import annotations

from askculture.web.app import build_app
from askculture.web.engine import ChatEngine, NotReadyError, Status
from askculture.web.layout import EXAMPLES
from askculture.web.server import LOCAL_HOSTS, LaunchOptions, check_port, launch_options, serve

__all__ = [
    "EXAMPLES",
    "LOCAL_HOSTS",
    "ChatEngine",
    "LaunchOptions",
    "NotReadyError",
    "Status",
    "build_app",
    "check_port",
    "launch_options",
    "serve",
]
