"""Files → index, incrementally.

A file whose size and modification time are unchanged is not read again; one whose bytes hash is
unchanged is not parsed or embedded again; a changed file replaces its old documents; with
``prune`` the documents of files that no longer exist are removed. Bad files are skipped and
reported with their reason; everything else is committed in one atomic generation.

Files are read and split into chunks in a worker process (:class:`_FileReader`), so that a file
that takes longer than ``settings.index.file_timeout_s`` to read and split (a pathological PDF, a
single line of 20 MB, a bomb) is skipped with that reason instead of hanging or crashing the
ingest. The worker is restarted after such a file, and kept (idle) for the next ingest of the same
process. Where no worker can run, files are read in-process, without the time limit.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import logging
import os
import pickle
import select
import signal
import stat
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from askculture.chunking import Chunk, Chunker
from askculture.documents import Document, iter_files, load_file
from askculture.embedding import SentenceTransformerEmbedder, get_embedder
from askculture.errors import DocumentError, IndexStoreError
from askculture.lexical import LEXICAL_VERSION, tokenize
from askculture.settings import Settings
from askculture.store import FileState, IndexReader, IndexWriter, Manifest, current_generation

logger = logging.getLogger(__name__)

TITLE_RESERVE_TOKENS = 48
EMBED_BATCH_CHUNKS = 256
WORKER_START_TIMEOUT_S = 120.0
"""Longest wait for the reading worker to start (imports, on a busy machine)."""
WORKER_IDLE_EXIT_S = 300.0
"""A reading worker kept for the next ingest exits after this long without work."""
WORKER_MEMORY_LIMIT = 4 * 2**30
"""Address-space limit of the reading worker (raised to 64 × the largest file allowed)."""

Progress = Callable[[int, int, str], None]
"""Called as ``progress(files_done, files_total, current_path)``."""

Prepared = list[tuple[Document, list[Chunk], list[list[str]], list[str]]]
"""A file's documents, each with its chunks, chunk terms and embedding inputs."""


@dataclass
class SkippedFile:
    """A file that was not indexed, and why."""

    path: str
    reason: str


@dataclass
class IngestReport:
    """What an ingest did, file by file."""

    index_dir: str
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)
    documents_indexed: int = 0
    chunks_embedded: int = 0
    rebuilt: bool = False
    model_id: str = ""
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """True when no file was skipped."""
        return not self.skipped

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict."""
        return asdict(self)


@dataclass
class _Pending:
    state: FileState
    docs: list[tuple[Document, list[Chunk], list[list[str]]]]
    texts: list[str]
    existed: bool


def _file_state(path: Path, data: bytes | None = None) -> FileState:
    st = path.stat()
    digest = hashlib.sha256(data).hexdigest() if data is not None else ""
    return FileState(str(path), st.st_size, st.st_mtime_ns, digest)


def _display_path(key: str) -> str:
    """``key`` printable as UTF-8 (bytes of a non-UTF-8 file name become U+FFFD)."""
    try:
        return key.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:
        return key.encode("utf-8", "replace").decode("utf-8")


def _chunking_params(settings: Settings, chunk_tokens: int) -> dict[str, object]:
    return {
        "chunk_tokens": chunk_tokens,
        "overlap_tokens": settings.chunking.overlap_tokens,
        "title_in_embedding": settings.chunking.title_in_embedding,
        "splitter": "langchain RecursiveCharacterTextSplitter/regex v1",
        "lexical": LEXICAL_VERSION,
    }


class _Embedding:
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
    def for_embedder(cls, embedder: SentenceTransformerEmbedder, settings: Settings) -> _Embedding:
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
# Reading files in a worker process, with a time limit per file
# --------------------------------------------------------------------------------------------
#
# Protocol: length-prefixed pickles over the worker's stdin/stdout, one request at a time.
#   ("config", _WorkerConfig) -> ("ready",)
#   ("read", path, max_bytes) -> ("ok", Prepared) | ("skip", reason)
# The worker writes its replies to a private copy of fd 1 and points fd 1 at stderr, so that a
# stray print cannot corrupt the channel. It exits on end of input, when idle for
# WORKER_IDLE_EXIT_S, or within a second of its parent's death.

_HEADER = struct.Struct("<Q")
_WORKER_CODE = "from askculture.ingest import worker_main; worker_main()"


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
    """The worker process ended or stopped answering in time."""


def _write_message(fd: int, obj: object) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    view = memoryview(_HEADER.pack(len(data)) + data)
    while view:  # a pipe may take a large message in several writes
        view = view[os.write(fd, view) :]


def _read_exact(fd: int, n: int, deadline: float | None) -> bytes:
    parts: list[bytes] = []
    while n:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise TimeoutError
        part = os.read(fd, min(n, 1 << 20))
        if not part:
            raise EOFError
        parts.append(part)
        n -= len(part)
    return b"".join(parts)


def _read_message(fd: int, deadline: float | None = None) -> Any:
    (n,) = _HEADER.unpack(_read_exact(fd, _HEADER.size, deadline))
    return pickle.loads(_read_exact(fd, n, deadline))


def _worker_embedding(config: _WorkerConfig) -> _Embedding:
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_str(config.tokenizer_json)
    tokenizer.no_truncation()
    tokenizer.no_padding()

    def count_tokens(text: str) -> int:
        return len(tokenizer.encode(text, add_special_tokens=False).ids)

    return _Embedding(
        count_tokens, config.text_budget, config.chunk_tokens, config.overlap_tokens,
        config.with_title,
    )  # fmt: skip


def _watch_parent(parent: int) -> None:
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:
            os._exit(0)


def worker_main() -> None:
    """Entry point of the reading worker process (see :class:`_FileReader`)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    out = os.dup(1)
    os.dup2(2, 1)
    parent = os.getppid()
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    with contextlib.suppress(BrokenPipeError, EOFError):  # the parent has gone
        _serve(out)


def _serve(out: int) -> None:
    """Answer requests on stdin with replies on ``out`` until the input ends or idles."""
    emb: _Embedding | None = None
    while True:
        if not select.select([0], [], [], WORKER_IDLE_EXIT_S)[0]:
            return
        try:
            message = _read_message(0)
        except EOFError:
            return
        if message[0] == "config":
            config: _WorkerConfig = message[1]
            emb = _worker_embedding(config)
            try:
                import resource

                _, hard = resource.getrlimit(resource.RLIMIT_AS)
                limit = config.memory_limit
                if hard == resource.RLIM_INFINITY or limit <= hard:
                    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
            except (ImportError, ValueError, OSError):  # pragma: no cover - platform specific
                pass
            _write_message(out, ("ready",))
        elif message[0] == "read":
            assert emb is not None, "configure the worker first"
            try:
                reply: tuple[str, object] = ("ok", emb.read(Path(message[1]), message[2]))
            except DocumentError as exc:
                reply = ("skip", str(exc))
            _write_message(out, reply)
            if isinstance(reply[1], str) and reply[1].startswith("needs more memory"):
                return  # the heap may be in a bad state: let the parent start a fresh worker


class _Worker:
    """One reading worker process."""

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
        self.proc = subprocess.Popen(
            # -P: the current directory must not shadow a module the worker imports
            [sys.executable, "-P", "-c", _WORKER_CODE],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            bufsize=0,
            env=env,
            close_fds=True,
        )

    @property
    def alive(self) -> bool:
        """True when the process runs, is ours, and no request is pending."""
        return self.owner == os.getpid() and not self.busy and self.proc.poll() is None

    def request(self, message: object, timeout: float | None) -> Any:
        """Send one request and wait for its reply; raise :class:`_WorkerDied` or TimeoutError."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.busy = True
        try:
            _write_message(self.proc.stdin.fileno(), message)
            deadline = None if timeout is None else time.monotonic() + timeout
            reply = _read_message(self.proc.stdout.fileno(), deadline)
        except TimeoutError:
            raise
        except (EOFError, OSError, pickle.UnpicklingError) as exc:  # BrokenPipeError is OSError
            raise _WorkerDied(self._death()) from exc
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
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                pipe.close()

    def close(self) -> None:
        """Ask the worker to exit (end of input) and reap it."""
        if self.owner != os.getpid():
            return
        if self.proc.stdin is not None:
            with contextlib.suppress(OSError):
                self.proc.stdin.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=2.0)
        self.kill()


_idle_worker: _Worker | None = None
_idle_lock = threading.Lock()


def _take_worker() -> _Worker | None:
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


def _give_back_worker(worker: _Worker) -> None:
    """Keep a healthy worker for the next ingest (one at most); stop any other."""
    global _idle_worker
    with _idle_lock:
        keep = _idle_worker is None and worker.alive
        if keep:
            _idle_worker = worker
    if not keep:
        worker.close() if worker.alive else worker.kill()


@atexit.register
def _close_idle_worker() -> None:
    global _idle_worker
    with _idle_lock:
        worker, _idle_worker = _idle_worker, None
    if worker is not None:
        worker.close()


class _FileReader:
    """Reads and splits files in a worker process, at most ``timeout`` seconds per file.

    Falls back to reading in-process (without a time limit) when no worker can run or the
    embedder's tokenizer cannot be handed to one.
    """

    def __init__(
        self,
        worker: _Worker | None,
        emb: _Embedding,
        embedder: SentenceTransformerEmbedder,
        timeout: float,
        max_bytes: int,
    ):
        self.emb = emb
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.worker = worker
        self._config: _WorkerConfig | None = None
        self._embedder = embedder
        self._key = hashlib.sha256(
            repr((embedder.model_id, emb.text_budget, emb.chunk_tokens, emb.overlap_tokens,
                  emb.with_title, max_bytes)).encode()
        ).hexdigest()  # fmt: skip
        if worker is not None and not self._configure():
            self._drop_worker(reuse=False)

    @property
    def in_worker(self) -> bool:
        """True when files are read in a worker process (with the time limit)."""
        return self.worker is not None

    def _configure(self) -> bool:
        """Hand the tokenizer and chunk sizes to the worker, unless it has them already."""
        worker, emb = self.worker, self.emb
        assert worker is not None
        if worker.config_key == self._key and worker.alive:
            return True
        if self._config is None:
            tokenizer_json = _tokenizer_json(self._embedder)
            if tokenizer_json is None:
                logger.warning("the tokenizer cannot run in a worker; reading files in-process")
                return False
            self._config = _WorkerConfig(
                key=self._key, tokenizer_json=tokenizer_json, text_budget=emb.text_budget,
                chunk_tokens=emb.chunk_tokens, overlap_tokens=emb.overlap_tokens,
                with_title=emb.with_title,
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
        self.worker = _take_worker()
        if self.worker is not None and not self._configure():
            self._drop_worker(reuse=False)

    def _drop_worker(self, reuse: bool) -> None:
        if self.worker is not None:
            if reuse:
                _give_back_worker(self.worker)
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
            return self.emb.read(path, self.max_bytes)
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


def _tokenizer_json(embedder: SentenceTransformerEmbedder) -> str | None:
    """The embedder's fast tokenizer serialised, or None when it has none."""
    backend = getattr(getattr(embedder, "_tokenizer", None), "backend_tokenizer", None)
    to_str = getattr(backend, "to_str", None)
    if not callable(to_str):
        return None
    text = to_str()
    return text if isinstance(text, str) else None


def _resolve_settings(settings: Settings | None, model: str | None) -> tuple[Settings, bool]:
    settings = settings or Settings()
    explicit = model is not None or "model" in settings.embedding.model_fields_set
    if model is not None:
        settings = settings.model_copy(deep=True)
        settings.embedding.model = model
    return settings, explicit


def ingest(
    paths: Iterable[str | Path],
    index_dir: str | Path | None = None,
    *,
    prune: bool = False,
    model: str | None = None,
    settings: Settings | None = None,
    progress: Progress | None = None,
) -> IngestReport:
    """Index files and folders into ``index_dir``, incrementally.

    Args:
        paths: Files and/or folders (walked recursively for supported formats).
        index_dir: The index folder (default: settings ``index.dir``).
        prune: Also remove documents whose source files no longer exist.
        model: Embedding model; when it differs from the one the index was built with, the
            index is rebuilt with it. Default: the index's own model, or the settings' for a
            new index.
        settings: Settings to use (default: from the environment).
        progress: Optional callback, see :data:`Progress`.

    Returns:
        The report: files added, updated, unchanged, removed and skipped (with reasons). A file
        is skipped when it cannot be read, is not a regular file, is larger than
        ``index.max_file_mb``, has a name that is not valid UTF-8, or takes longer than
        ``index.file_timeout_s`` to read and split.

    Raises:
        ConfigError: A path does not exist or the model cannot be loaded.
        IndexStoreError: The index folder is unusable or busy.
    """
    started = time.perf_counter()
    settings, explicit_model = _resolve_settings(settings, model)
    index_path = Path(index_dir) if index_dir is not None else settings.index.dir
    files = list(dict.fromkeys(p.resolve() for p in iter_files(Path(p) for p in paths)))

    live = current_generation(index_path) if index_path.is_dir() else None
    previous = Manifest.from_file(live / "manifest.json") if live else None
    if previous is not None and not explicit_model:
        settings = settings.model_copy(deep=True)
        settings.embedding.model = previous.model
    max_bytes = int(settings.index.max_file_mb * 2**20)
    worker = _take_worker() if files else None  # starts while the model loads
    try:
        embedder = get_embedder(settings.embedding)
    except BaseException:
        if worker is not None:
            _give_back_worker(worker)
        raise
    emb = _Embedding.for_embedder(embedder, settings)
    reader = _FileReader(worker, emb, embedder, settings.index.file_timeout_s, max_bytes)
    try:
        report = _ingest(
            files, index_path, live, previous, prune, settings, embedder, emb, reader, progress
        )
    finally:
        reader.close()
    report.seconds = time.perf_counter() - started
    return report


def _ingest(
    files: list[Path],
    index_path: Path,
    live: Path | None,
    previous: Manifest | None,
    prune: bool,
    settings: Settings,
    embedder: SentenceTransformerEmbedder,
    emb: _Embedding,
    reader: _FileReader,
    progress: Progress | None,
) -> IngestReport:
    chunking = _chunking_params(settings, emb.chunk_tokens)
    rebuild = previous is not None and (
        previous.model_id != embedder.model_id or previous.chunking != chunking
    )
    manifest = Manifest(
        model=settings.embedding.model,
        model_id=embedder.model_id,
        dim=embedder.dim,
        query_prefix=embedder.spec.query_prefix,
        passage_prefix=embedder.spec.passage_prefix,
        chunking=chunking,
    )
    report = IngestReport(index_dir=str(index_path), rebuilt=rebuild, model_id=embedder.model_id)

    with IndexWriter(
        index_path,
        manifest,
        rebuild=rebuild,
        lock_timeout=settings.index.lock_timeout_s,
        exact_search_max=settings.index.exact_search_max,
    ) as writer:
        known = writer.file_states()
        carried: dict[str, list[Document]] = {}
        if rebuild and live is not None:  # re-embed what the old index held from stored text
            old_reader = IndexReader(index_path, live)
            known = old_reader.file_states()
            for doc in old_reader.documents():
                carried.setdefault(doc.path, []).append(doc)
            old_reader.close()
        pending: list[_Pending] = []

        def flush() -> None:
            texts = [t for p in pending for t in p.texts]
            vectors = embedder.embed_passages(texts)
            offset = 0
            for p in pending:
                if p.existed:
                    writer.remove_file(p.state.path)
                rows = []
                for doc, chunks, terms in p.docs:
                    rows.append((doc, chunks, terms, vectors[offset : offset + len(chunks)]))
                    offset += len(chunks)
                writer.add_file(p.state, rows)
                report.documents_indexed += len(p.docs)
            report.chunks_embedded += len(texts)
            pending.clear()

        def queue(state: FileState, prepared: Prepared, existed: bool) -> None:
            docs = [(doc, chunks, terms) for doc, chunks, terms, _ in prepared]
            texts = [text for *_, inputs in prepared for text in inputs]
            pending.append(_Pending(state, docs, texts, existed))
            if sum(len(p.texts) for p in pending) >= EMBED_BATCH_CHUNKS:
                flush()

        max_bytes = reader.max_bytes
        seen: set[str] = set()
        for i, path in enumerate(files):
            key = str(path)
            seen.add(key)
            shown = _display_path(key)
            if progress:
                progress(i, len(files), shown)
            old = known.get(key)
            try:
                if shown != key:
                    raise DocumentError("the file name is not valid UTF-8; rename the file")
                st = path.stat()
                if not stat.S_ISREG(st.st_mode):
                    raise DocumentError("not a regular file")
                if (
                    old is not None
                    and old.size == st.st_size
                    and old.mtime_ns == st.st_mtime_ns
                    and key not in carried
                ):
                    report.unchanged.append(key)
                    continue
                if st.st_size > max_bytes:
                    raise DocumentError(
                        f"file too large ({st.st_size / 2**20:.1f} MB > {max_bytes / 2**20:.1f} MB)"
                    )
                data = path.read_bytes()
                state = _file_state(path, data)
                del data
                if old is not None and old.sha256 == state.sha256 and key not in carried:
                    writer.add_file(state, [])  # refresh size/mtime only; documents stay
                    report.unchanged.append(key)
                    continue
                prepared = reader.read(path)
            except DocumentError as exc:
                report.skipped.append(SkippedFile(shown, str(exc)))
                continue
            except OSError as exc:
                report.skipped.append(SkippedFile(shown, f"cannot read: {exc.strerror or exc}"))
                continue
            carried.pop(key, None)
            queue(state, prepared, existed=old is not None)
            (report.updated if old is not None else report.added).append(key)

        for key, docs in carried.items():  # rebuild: files not given this time keep their text
            if key in known:
                queue(known[key], [(doc, *emb.prepare(doc)) for doc in docs], existed=True)
                report.updated.append(key)
        flush()

        if prune:
            for key in sorted(set(known) - seen):
                if not Path(key).exists():
                    writer.remove_file(key)
                    report.removed.append(key)
        if progress:
            progress(len(files), len(files), "")
    return report


def remove_documents(
    index_dir: str | Path, doc_ids: Iterable[str], *, settings: Settings | None = None
) -> list[str]:
    """Remove documents from an index, with every document of their source files.

    A source file is the unit the index tracks (a JSON Lines file holds several documents), so
    removing one document removes its file's documents; an ingest of that file adds them again.

    Args:
        index_dir: The index folder.
        doc_ids: Ids of the documents to remove (unknown ids are ignored).
        settings: Settings (for the lock timeout and the search type threshold).

    Returns:
        The source paths removed.

    Raises:
        IndexStoreError: There is no index there, or it is busy.
    """
    settings = settings or Settings()
    index_path = Path(index_dir)
    live = current_generation(index_path) if index_path.is_dir() else None
    if live is None:
        raise IndexStoreError(f"no index at {index_path}")
    wanted = set(doc_ids)
    reader = IndexReader(index_path, live)
    try:
        paths = sorted({d.path for d in reader.documents() if d.id in wanted})
    finally:
        reader.close()
    if not paths:
        return []
    manifest = Manifest.from_file(live / "manifest.json")
    with IndexWriter(
        index_path,
        manifest,
        lock_timeout=settings.index.lock_timeout_s,
        exact_search_max=settings.index.exact_search_max,
    ) as writer:
        for path in paths:
            writer.remove_file(path)
    return paths


__all__ = ["IngestReport", "SkippedFile", "ingest", "remove_documents"]
