"""Files → documents → chunks, read in a worker process with a time limit per file.

A file that takes longer than ``index.file_timeout_s`` to read and split (a pathological PDF, a
single line of 20 MB, a bomb) is skipped with that reason instead of hanging the ingest, and a
file that crashes the reader is skipped with the cause. The worker is a standard
interpreter talking over a :func:`multiprocessing.Pipe` (the standard library's framing and
pickling); on a time-out it is killed and replaced. A healthy worker is
kept, idle, for the next ingest of the same process. Where no worker can run, files are read
in-process, without the time limit.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from askculture.chunking import Chunk, Chunker
from askculture.documents import Document, load_file
from askculture.embedding import SentenceTransformerEmbedder
from askculture.errors import DocumentError
from askculture.lexical import tokenize
from askculture.settings import Settings

logger = logging.getLogger(__name__)

TITLE_RESERVE_TOKENS = 48
WORKER_START_TIMEOUT_S = 120.0
"""Longest wait for the reading worker to start (imports, on a busy machine)."""
WORKER_IDLE_EXIT_S = 300.0
"""A reading worker kept for the next ingest exits after this long without work."""
WORKER_MEMORY_LIMIT = 4 * 2**30
"""Address-space limit of the reading worker (raised to 64 × the largest file allowed)."""

Prepared = list[tuple[Document, list[Chunk], list[list[str]], list[str]]]
"""A file's documents, each with its chunks, chunk terms and embedding inputs."""


class Preparer:
    """How a document's chunks become embedding inputs (title prepended when it fits).

    Built from the embedder in the ingesting process (:meth:`for_embedder`) and from the same
    tokenizer and numbers in the reading worker, so both split identically.
    """

    def __init__(
        self,
        count_tokens: Callable[[str], int],
        text_budget: int,
        chunk_tokens: int,
        overlap_tokens: int,
        with_title: bool,
    ):
        self.count_tokens = count_tokens
        self.text_budget = text_budget
        self.chunk_tokens = chunk_tokens
        self.overlap_tokens = overlap_tokens
        self.with_title = with_title
        self.chunker = Chunker(count_tokens, chunk_tokens, overlap_tokens)

    @classmethod
    def for_embedder(cls, embedder: SentenceTransformerEmbedder, settings: Settings) -> Preparer:
        """Chunk sizes that fit ``embedder`` (title reserve included), per ``settings``."""
        with_title = settings.chunking.title_in_embedding
        budget = embedder.text_budget - (TITLE_RESERVE_TOKENS if with_title else 0)
        chunk_tokens = max(16, min(settings.chunking.chunk_tokens, budget))
        return cls(
            embedder.count_tokens,
            embedder.text_budget,
            chunk_tokens,
            settings.chunking.overlap_tokens,
            with_title,
        )

    def prepare(self, doc: Document) -> tuple[list[Chunk], list[list[str]], list[str]]:
        """A document's chunks, their index terms and their embedding inputs."""
        chunks = self.chunker.split(doc)
        texts, terms = [], []
        for ch in chunks:
            text = ch.text
            if self.with_title and doc.title:
                titled = f"{doc.title}\n{ch.text}"
                if self.count_tokens(titled) <= self.text_budget:
                    text = titled
            texts.append(text)
            terms.append(tokenize(f"{doc.title}\n{ch.text}", doc.lang))
        return chunks, terms, texts

    def read(self, path: Path, max_bytes: int) -> Prepared:
        """Load a file and prepare its documents; any failure is a :class:`DocumentError`."""
        try:
            return [(doc, *self.prepare(doc)) for doc in load_file(path, max_bytes=max_bytes)]
        except DocumentError:
            raise
        except MemoryError as exc:
            raise DocumentError("needs more memory than allowed to read") from exc
        except RecursionError as exc:
            raise DocumentError("too deeply nested to read") from exc
        except Exception as exc:  # a loader bug must not end the whole ingest
            logger.debug("unexpected error reading %s", path, exc_info=True)
            raise DocumentError(f"could not be read ({type(exc).__name__}: {exc})"[:300]) from exc


# --------------------------------------------------------------------------------------------
# The worker process. Messages over a multiprocessing pipe, one request at a time:
#   ("config", _WorkerConfig) -> ("ready",)
#   ("read", path, max_bytes) -> ("ok", Prepared) | ("skip", reason)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _WorkerConfig:
    key: str
    tokenizer_json: str
    text_budget: int
    chunk_tokens: int
    overlap_tokens: int
    with_title: bool
    memory_limit: int


class _WorkerDied(Exception):
    """The worker process ended."""


def _worker_preparer(config: _WorkerConfig) -> Preparer:
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_str(config.tokenizer_json)
    tokenizer.no_truncation()
    tokenizer.no_padding()

    def count_tokens(text: str) -> int:
        return len(tokenizer.encode(text, add_special_tokens=False).ids)

    return Preparer(
        count_tokens, config.text_budget, config.chunk_tokens, config.overlap_tokens,
        config.with_title,
    )  # fmt: skip


def _limit_memory(limit: int) -> None:
    try:
        import resource

        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard == resource.RLIM_INFINITY or limit <= hard:
            resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ImportError, ValueError, OSError):  # pragma: no cover - platform specific
        pass


def _watch_parent(parent: int) -> None:
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:
            os._exit(0)


_WORKER_CODE = "from askculture.reading import worker_main; worker_main({fd}, {pid})"


def worker_main(fd: int, parent: int) -> None:
    """Entry point of the reading worker: answer requests on the pipe ``fd`` until it closes
    or idles for ``WORKER_IDLE_EXIT_S``, or ``parent`` dies."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    conn = Connection(fd)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    prep: Preparer | None = None
    with contextlib.suppress(EOFError, OSError):  # the parent has gone
        while conn.poll(WORKER_IDLE_EXIT_S):
            message = conn.recv()
            if message[0] == "config":
                prep = _worker_preparer(message[1])
                _limit_memory(message[1].memory_limit)
                conn.send(("ready",))
                continue
            assert prep is not None, "configure the worker first"
            try:
                reply: tuple[str, object] = ("ok", prep.read(Path(message[1]), message[2]))
            except DocumentError as exc:
                reply = ("skip", str(exc))
            conn.send(reply)
            if isinstance(reply[1], str) and reply[1].startswith("needs more memory"):
                return  # the heap may be in a bad state: let the parent start a fresh worker


class _Worker:
    """One reading worker process.

    Started with :mod:`subprocess` (a fresh interpreter: the ``spawn`` and ``forkserver`` start
    methods of :mod:`multiprocessing` would re-import the caller's ``__main__``, re-running a
    script without a main guard inside the worker, and ``fork`` would copy torch's and faiss's
    threads), and spoken to through a :func:`multiprocessing.Pipe`, whose child end it inherits.
    """

    def __init__(self) -> None:
        import askculture

        env = dict(os.environ)
        package_root = str(Path(askculture.__file__).resolve().parents[1])
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (package_root, env.get("PYTHONPATH", "")) if p
        )
        self.owner = os.getpid()
        """The process that started the worker (a forked child must not use it)."""
        self.config_key: str | None = None
        self.busy = False
        """True while a request is unanswered (the worker cannot be reused then)."""
        self.conn, child = multiprocessing.Pipe()
        try:
            self.proc = subprocess.Popen(
                # -P: the current directory must not shadow a module the worker imports
                [
                    sys.executable,
                    "-P",
                    "-c",
                    _WORKER_CODE.format(fd=child.fileno(), pid=self.owner),
                ],
                stdin=subprocess.DEVNULL,
                env=env,
                pass_fds=(child.fileno(),),
            )
        finally:
            child.close()

    @property
    def alive(self) -> bool:
        """True when the process runs, is ours, and no request is pending."""
        return self.owner == os.getpid() and not self.busy and self.proc.poll() is None

    def request(self, message: object, timeout: float) -> Any:
        """Send one request and wait for its reply; raise :class:`_WorkerDied` or TimeoutError."""
        self.busy = True
        try:
            self.conn.send(message)
            answered = self.conn.poll(timeout)
            reply = self.conn.recv() if answered else None
        except (EOFError, OSError) as exc:  # BrokenPipeError is an OSError
            raise _WorkerDied(self._death()) from exc
        if not answered:
            raise TimeoutError  # (an OSError too: raised outside the handler above)
        self.busy = False
        return reply

    def _death(self) -> str:
        try:
            code = self.proc.wait(timeout=2.0)
        except subprocess.TimeoutExpired:
            self.kill()
            return "stopped answering"
        if code < 0:
            try:
                return f"killed by {signal.Signals(-code).name}"
            except ValueError:
                return f"killed by signal {-code}"
        return f"exited with status {code}"

    def kill(self) -> None:
        """Stop the worker now and reap it (a worker of the parent process is left alone)."""
        if self.owner != os.getpid():
            return
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.conn.close()

    def close(self) -> None:
        """Ask the worker to exit (its pipe closes) and reap it."""
        if self.owner != os.getpid():
            return
        self.conn.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=2.0)
        self.kill()


_idle_worker: _Worker | None = None
_idle_lock = threading.Lock()


def take_worker() -> _Worker | None:
    """The idle worker of an earlier ingest if it is still alive, else a new one (or None)."""
    global _idle_worker
    with _idle_lock:
        worker, _idle_worker = _idle_worker, None
    if worker is not None and worker.alive:
        return worker
    if worker is not None:
        worker.kill()
    if os.name != "posix" or not sys.executable:
        return None
    try:
        return _Worker()
    except OSError as exc:
        logger.warning("cannot start the reading worker (%s); reading files in-process", exc)
        return None


def give_back_worker(worker: _Worker) -> None:
    """Keep a healthy worker for the next ingest (one at most); stop any other."""
    global _idle_worker
    with _idle_lock:
        keep = _idle_worker is None and worker.alive
        if keep:
            _idle_worker = worker
    if not keep:
        worker.close() if worker.alive else worker.kill()


class FileReader:
    """Reads and splits files in a worker process, at most ``timeout`` seconds per file.

    Falls back to reading in-process (without a time limit) when no worker can run or the
    embedder's tokenizer cannot be handed to one.
    """

    def __init__(
        self,
        worker: _Worker | None,
        prep: Preparer,
        embedder: SentenceTransformerEmbedder,
        timeout: float,
        max_bytes: int,
    ):
        self.prep = prep
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.worker = worker
        self._config: _WorkerConfig | None = None
        self._embedder = embedder
        self._key = hashlib.sha256(
            repr((embedder.model_id, prep.text_budget, prep.chunk_tokens, prep.overlap_tokens,
                  prep.with_title, max_bytes)).encode()
        ).hexdigest()  # fmt: skip
        if worker is not None and not self._configure():
            self._drop_worker(reuse=False)

    @property
    def in_worker(self) -> bool:
        """True when files are read in a worker process (with the time limit)."""
        return self.worker is not None

    def _configure(self) -> bool:
        """Hand the tokenizer and chunk sizes to the worker, unless it has them already."""
        worker, prep = self.worker, self.prep
        assert worker is not None
        if worker.config_key == self._key and worker.alive:
            return True
        if self._config is None:
            tokenizer_json = self._embedder.tokenizer_json()
            if tokenizer_json is None:
                logger.warning("the tokenizer cannot run in a worker; reading files in-process")
                return False
            self._config = _WorkerConfig(
                key=self._key, tokenizer_json=tokenizer_json, text_budget=prep.text_budget,
                chunk_tokens=prep.chunk_tokens, overlap_tokens=prep.overlap_tokens,
                with_title=prep.with_title,
                memory_limit=max(WORKER_MEMORY_LIMIT, 64 * self.max_bytes),
            )  # fmt: skip
        try:
            reply = worker.request(("config", self._config), WORKER_START_TIMEOUT_S)
        except (_WorkerDied, TimeoutError) as exc:
            logger.warning("the reading worker did not start (%s); reading files in-process", exc)
            return False
        worker.config_key = self._key if reply == ("ready",) else None
        return worker.config_key is not None

    def _restart(self) -> None:
        if self.worker is not None:
            self.worker.kill()
        self.worker = take_worker()
        if self.worker is not None and not self._configure():
            self._drop_worker(reuse=False)

    def _drop_worker(self, reuse: bool) -> None:
        if self.worker is not None:
            if reuse:
                give_back_worker(self.worker)
            else:
                self.worker.kill()
        self.worker = None

    def read(self, path: Path) -> Prepared:
        """Load and split one file.

        Raises:
            DocumentError: The file cannot be read, or took longer than the time limit.
        """
        if self.worker is not None and not self.worker.alive:
            self._restart()
        if self.worker is None:
            return self.prep.read(path, self.max_bytes)
        try:
            kind, value = self.worker.request(("read", str(path), self.max_bytes), self.timeout)
        except TimeoutError:
            self._restart()
            raise DocumentError(
                f"took longer than {self.timeout:g} s to read and split "
                "(limit: index.file_timeout_s)"
            ) from None
        except _WorkerDied as exc:
            self._restart()
            raise DocumentError(f"the file reader crashed on this file ({exc})") from None
        if kind == "ok":
            prepared: Prepared = value
            return prepared
        raise DocumentError(str(value))

    def close(self) -> None:
        """Keep a healthy worker for the next ingest; stop a broken one."""
        self._drop_worker(reuse=True)


__all__ = ["FileReader", "Prepared", "Preparer", "give_back_worker", "take_worker"]
