"""Files → index, incrementally.

A file whose size and modification time are unchanged is not read again; one whose bytes hash is
unchanged is not parsed or embedded again; a changed file replaces its old documents; with
``prune`` the documents of files that no longer exist are removed. Bad files are skipped and
reported with their reason; everything else is committed in one atomic generation.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from askculture.chunking import Chunk, Chunker
from askculture.documents import Document, iter_files, load_file
from askculture.embedding import SentenceTransformerEmbedder, get_embedder
from askculture.errors import DocumentError
from askculture.lexical import LEXICAL_VERSION, tokenize
from askculture.settings import Settings
from askculture.store import FileState, IndexReader, IndexWriter, Manifest, current_generation

TITLE_RESERVE_TOKENS = 48
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


def _chunking_params(settings: Settings, chunk_tokens: int) -> dict[str, object]:
    return {
        "chunk_tokens": chunk_tokens,
        "overlap_tokens": settings.chunking.overlap_tokens,
        "title_in_embedding": settings.chunking.title_in_embedding,
        "splitter": "langchain RecursiveCharacterTextSplitter/regex v1",
        "lexical": LEXICAL_VERSION,
    }


class _Embedding:
    """How a document's chunks become embedding inputs (title prepended when it fits)."""

    def __init__(self, embedder: SentenceTransformerEmbedder, settings: Settings):
        self.embedder = embedder
        self.with_title = settings.chunking.title_in_embedding
        budget = embedder.text_budget - (TITLE_RESERVE_TOKENS if self.with_title else 0)
        self.chunk_tokens = max(16, min(settings.chunking.chunk_tokens, budget))
        self.chunker = Chunker(
            embedder.count_tokens, self.chunk_tokens, settings.chunking.overlap_tokens
        )

    def prepare(self, doc: Document) -> tuple[list[Chunk], list[list[str]], list[str]]:
        chunks = self.chunker.split(doc)
        texts, terms = [], []
        for ch in chunks:
            text = ch.text
            if self.with_title and doc.title:
                titled = f"{doc.title}\n{ch.text}"
                if self.embedder.count_tokens(titled) <= self.embedder.text_budget:
                    text = titled
            texts.append(text)
            terms.append(tokenize(f"{doc.title}\n{ch.text}", doc.lang))
        return chunks, terms, texts


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
        The report: files added, updated, unchanged, removed and skipped (with reasons).

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
    embedder = get_embedder(settings.embedding)
    emb = _Embedding(embedder, settings)
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
            reader = IndexReader(index_path, live)
            known = reader.file_states()
            for doc in reader.documents():
                carried.setdefault(doc.path, []).append(doc)
            reader.close()
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

        def queue(state: FileState, docs: list[Document], existed: bool) -> None:
            prepared, texts = [], []
            for doc in docs:
                chunks, terms, inputs = emb.prepare(doc)
                prepared.append((doc, chunks, terms))
                texts.extend(inputs)
            pending.append(_Pending(state, prepared, texts, existed))
            if sum(len(p.texts) for p in pending) >= EMBED_BATCH_CHUNKS:
                flush()

        seen: set[str] = set()
        for i, path in enumerate(files):
            key = str(path)
            seen.add(key)
            if progress:
                progress(i, len(files), key)
            old = known.get(key)
            try:
                st = path.stat()
                if (
                    old is not None
                    and old.size == st.st_size
                    and old.mtime_ns == st.st_mtime_ns
                    and key not in carried
                ):
                    report.unchanged.append(key)
                    continue
                data = path.read_bytes()
                state = _file_state(path, data)
                if old is not None and old.sha256 == state.sha256 and key not in carried:
                    writer.add_file(state, [])  # refresh size/mtime only; documents stay
                    report.unchanged.append(key)
                    continue
                docs = load_file(path, max_bytes=int(settings.index.max_file_mb * 2**20))
            except DocumentError as exc:
                report.skipped.append(SkippedFile(key, str(exc)))
                continue
            except OSError as exc:
                report.skipped.append(SkippedFile(key, f"cannot read: {exc.strerror or exc}"))
                continue
            carried.pop(key, None)
            queue(state, docs, existed=old is not None)
            (report.updated if old is not None else report.added).append(key)

        for key, docs in carried.items():  # rebuild: files not given this time keep their text
            if key in known:
                queue(known[key], docs, existed=True)
                report.updated.append(key)
        flush()

        if prune:
            for key in sorted(set(known) - seen):
                if not Path(key).exists():
                    writer.remove_file(key)
                    report.removed.append(key)
        if progress:
            progress(len(files), len(files), "")

    report.seconds = time.perf_counter() - started
    return report


__all__ = ["IngestReport", "SkippedFile", "ingest"]
