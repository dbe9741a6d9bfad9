"""Files → index, incrementally.

A file whose size and modification time are unchanged is not read again; one whose bytes hash is
unchanged is not parsed or embedded again; a changed file replaces its old documents; with
``prune`` the documents of files that no longer exist are removed. Bad files are skipped and
reported with their reason; everything else is committed at once (see :mod:`askculture.store`:
a commit writes a new segment and deletions, never a copy of the index).

Files are read and split in a worker process with a time limit per file
(:mod:`askculture.reading`).
"""

from __future__ import annotations

import hashlib
import logging
import stat
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from askculture.chunking import Chunk
from askculture.documents import Document, iter_files
from askculture.embedding import SentenceTransformerEmbedder, get_embedder
from askculture.errors import DocumentError, IndexStoreError
from askculture.lexical import LEXICAL_VERSION
from askculture.reading import FileReader, Prepared, Preparer, give_back_worker, take_worker
from askculture.settings import Settings
from askculture.store import FileState, IndexReader, IndexWriter, Manifest, current_generation

logger = logging.getLogger(__name__)

EMBED_BATCH_CHUNKS = 256

Progress = Callable[[int, int, str], None]
"""Called as ``progress(files_done, files_total, current_path)``."""


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
    if live is not None and live.is_dir():
        raise IndexStoreError(
            f"{index_path} holds an index of an older format (whole-generation folders); "
            "ingest into a new --index folder"
        )
    previous = Manifest.from_file(live) if live else None
    if previous is not None and not explicit_model:
        settings = settings.model_copy(deep=True)
        settings.embedding.model = previous.model
    max_bytes = int(settings.index.max_file_mb * 2**20)
    worker = take_worker() if files else None  # starts while the model loads
    try:
        embedder = get_embedder(settings.embedding)
    except BaseException:
        if worker is not None:
            give_back_worker(worker)
        raise
    emb = Preparer.for_embedder(embedder, settings)
    reader = FileReader(worker, emb, embedder, settings.index.file_timeout_s, max_bytes)
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
    emb: Preparer,
    reader: FileReader,
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

    with _writer(index_path, manifest, settings, rebuild=rebuild) as writer:
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


def _writer(
    index_path: Path, manifest: Manifest, settings: Settings, *, rebuild: bool = False
) -> IndexWriter:
    """An index writer configured by ``settings.index``."""
    return IndexWriter(
        index_path,
        manifest,
        rebuild=rebuild,
        lock_timeout=settings.index.lock_timeout_s,
        exact_search_max=settings.index.exact_search_max,
        segment_chunks=settings.index.segment_chunks,
        merge_small_chunks=settings.index.merge_small_chunks,
        merge_factor=settings.index.merge_factor,
    )


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
    manifest = Manifest.from_file(live)
    with _writer(index_path, manifest, settings) as writer:
        paths = writer.document_paths(doc_ids)  # indexed look-ups, not a scan
        for path in paths:
            writer.remove_file(path)
    return paths


__all__ = ["IngestReport", "SkippedFile", "ingest", "remove_documents"]
