"""The index behind the chat: built when missing, warmed up, asked, grown and pruned.

:class:`ChatEngine` prepares the index in the background (building it from the sample corpus on
the first start, with progress), answers questions once it is ready (worded by the configured
backend: quoted, or written by a language model and checked), lists its documents and
publishers, adds uploaded files and removes documents. Changes go through
:func:`askculture.ingest` and :func:`askculture.ingest.remove_documents`, one at a time.
"""

from __future__ import annotations

import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from askculture.answering import Answer, ask
from askculture.documents import Document
from askculture.embedding import get_embedder
from askculture.errors import AskCultureError, IndexStoreError
from askculture.ingest import IngestReport, Progress, ingest, remove_documents
from askculture.retrieval import open_index
from askculture.settings import SAMPLE_CORPUS_DIR, Settings
from askculture.store import current_generation
from askculture.web.filters import Filters
from askculture.web.publishers import Publisher, group_publishers
from askculture.writing import Reply, stream_written


class NotReadyError(AskCultureError):
    """The index is still being built or loaded; ``key``/``values`` say so in any language."""

    def __init__(self, key: str, **values: Any) -> None:
        from askculture.web.i18n import Messages

        self.key, self.values = key, values
        super().__init__(Messages("en")(key, **values))


def log(message: str) -> None:
    """A line on the server's console."""
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
        log: Callable[[str], None] = log,
    ):
        self.index_dir = Path(index_dir)
        self.settings = settings
        self.corpus = list(corpus) if corpus is not None else [SAMPLE_CORPUS_DIR]
        self.log = log
        self._status = Status()
        self._lock = threading.Lock()
        self._changing = threading.Lock()
        self._ready = threading.Event()
        self._finished = threading.Event()
        self._thread: threading.Thread | None = None
        self._warming: threading.Thread | None = None
        self._listing: tuple[str, list[Document]] | None = None

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
            self._set(phase="loading", message="")
            ask("warm up", self.index_dir, settings=self.settings)
            self._refresh_counts()
            self._set(phase="ready", message="")
            self._ready.set()
            self.log(f"ready: {self.status().documents} documents in {self.index_dir}")
        except AskCultureError as exc:
            self._set(phase="error", message=str(exc))
            self.log(f"error: the index could not be prepared: {exc}")
        except Exception as exc:  # the page must say why it cannot answer
            self._set(phase="error", message=f"{type(exc).__name__}: {exc}")
            self.log(f"error: the index could not be prepared: {exc!r}")
        finally:
            self._finished.set()

    def _refresh_counts(self) -> None:
        m = open_index(self.index_dir, settings=self.settings).reader.manifest
        self._set(
            documents=m.counts.get("documents", 0), languages=dict(m.languages), model=m.model
        )

    def _build(self) -> None:
        names = ", ".join(str(p) for p in self.corpus)
        self.log(f"no index at {self.index_dir}; building it from {names} (first start only)")
        self._set(phase="building", message="", started=time.time())
        last = [0.0]

        def progress(done: int, total: int, path: str) -> None:
            name = Path(path).name if path else "…"
            self._set(done=done, total=total, current=name, message="")
            now = time.monotonic()
            if done == total or now - last[0] > 2:
                last[0] = now
                self.log(f"indexing {done}/{total} files ({name})")

        report = ingest(self.corpus, self.index_dir, settings=self.settings, progress=progress)
        for s in report.skipped:
            self.log(f"skipped {s.path}: {s.reason}")
        self.log(f"indexed {report.documents_indexed} documents in {report.seconds:.0f}s")

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
                raise NotReadyError("error.not_ready", message=st.message)
            if st.total:
                raise NotReadyError("error.building", done=st.done, total=st.total)
            raise NotReadyError("error.building_start")
        return ask(
            question, self.index_dir, history=history, date_from=filters.date_from or None,
            date_to=filters.date_to or None, lang=list(filters.languages) or None,
            source=filters.publisher_names or None, settings=self.settings,
        )  # fmt: skip

    def reply(
        self, question: str, history: list[tuple[str, str]], filters: Filters, wait: float = 30
    ) -> Iterator[Answer | str | Reply]:
        """Answer a question and word it with the configured backend (``answer.backend``).

        Yields the extractive :class:`Answer` (the evidence) first, then the model's draft in
        pieces (``str``, never to be shown as an answer: not checked yet), then the checked
        :class:`~askculture.writing.Reply`. The extractive backend yields the answer and its
        reply only. Written answers the server failed to give are logged.

        Raises:
            NotReadyError: The index is being built or could not be prepared.
            AskCultureError: The question or a filter is unusable; ``llm.model`` is not set.
        """
        answer = self.ask(question, history, filters, wait)
        yield answer
        for item in stream_written(answer, self.settings):
            if isinstance(item, Reply) and item.fallback not in {None, "gate", "not_in_documents"}:
                self.log(f"warning: written answer not shown: {item.notice}")
            yield item

    def answer(
        self, question: str, history: list[tuple[str, str]], filters: Filters, wait: float = 30
    ) -> Reply:
        """:meth:`reply` without the stream: the checked reply."""
        *_, last = self.reply(question, history, filters, wait)
        assert isinstance(last, Reply)  # reply() always ends with the Reply
        return last

    # -- what the index holds --------------------------------------------------------------
    def documents(self) -> list[Document]:
        """Every indexed document, newest first (empty until ready)."""
        if not self._ready.is_set():
            return []
        retriever = open_index(self.index_dir, settings=self.settings)
        if self._listing is None or self._listing[0] != retriever.generation:
            docs = sorted(retriever.reader.documents(), key=lambda d: (d.date or "", d.title))
            self._listing = (retriever.generation, docs[::-1])
        return list(self._listing[1])

    def publishers(self) -> list[Publisher]:
        """Publishers in the index, one per publisher across languages, most documents first."""
        counts = Counter(d.source for d in self.documents() if d.source)
        return group_publishers(counts)

    def document(self, doc_id: str) -> Document | None:
        """One document, or None when it is not (or no longer) in the index."""
        if not self._ready.is_set():
            return None
        try:
            return open_index(self.index_dir, settings=self.settings).reader.document(doc_id)
        except IndexStoreError:
            return None

    def document_texts(self, answer: Answer) -> dict[str, str | None]:
        """Full text of each cited document (``None`` when it is no longer in the index)."""
        texts: dict[str, str | None] = {}
        for c in answer.citations:
            doc = self.document(c.doc_id)
            texts[c.doc_id] = doc.text if doc is not None else None
        return texts

    # -- changes -----------------------------------------------------------------------------
    def warm_ingest(self) -> threading.Thread:
        """Load what indexing files needs in the background, once.

        Answering runs on the model's ONNX export; indexing needs sentence-transformers and
        torch, which take seconds to load. Started when someone opens the documents, the load
        overlaps with choosing files, and an upload waits only for what is left of it.

        Returns:
            The thread that loads it (already finished when it was loaded before).
        """
        with self._lock:
            if self._warming is None:
                self._warming = threading.Thread(
                    target=self._load_ingest_model, name="askculture-warm-ingest", daemon=True
                )
                self._warming.start()
            return self._warming

    def _load_ingest_model(self) -> None:
        try:
            _ = get_embedder(self.settings.embedding).sentence_transformer
        except AskCultureError as exc:  # the upload itself reports it
            self.log(f"the model that indexes uploads did not load: {exc}")

    def add_files(self, paths: Sequence[Path], progress: Progress | None = None) -> IngestReport:
        """Index files (incrementally) into the live index.

        Raises:
            NotReadyError: The index is not ready yet.
            AskCultureError: The index is busy or unusable.
        """
        if not self._ready.is_set():
            raise NotReadyError("error.building_start")
        with self._changing:
            report = ingest(paths, self.index_dir, settings=self.settings, progress=progress)
            self._refresh_counts()
        for s in report.skipped:
            self.log(f"upload skipped {s.path}: {s.reason}")
        return report

    def remove(self, doc_ids: Sequence[str], delete_under: Path | None = None) -> list[str]:
        """Remove documents (with their source files' other documents) from the index.

        Args:
            doc_ids: The documents.
            delete_under: Source files inside this folder (the uploads) are deleted as well,
                so that nothing brings them back.

        Returns:
            The source paths removed from the index.
        """
        if not self._ready.is_set():
            raise NotReadyError("error.building_start")
        with self._changing:
            paths = remove_documents(self.index_dir, doc_ids, settings=self.settings)
            self._refresh_counts()
        if delete_under is not None:
            root = delete_under.resolve()
            for p in map(Path, paths):
                if p.resolve().parent == root and p.is_file():
                    p.unlink()
        return paths
