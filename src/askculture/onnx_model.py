"""The embedding model as one ONNX graph run by ONNX Runtime: questions without torch.

A question embeds itself and a few sentences. Through sentence-transformers that means importing
torch, transformers and sentence-transformers (about 12 of the 16 seconds a one-shot
``askculture ask`` took on a two-core machine) and a forward pass that costs about twice what
ONNX Runtime takes for the same graph (a 25-token query: 57 against 25-29 ms on one thread).
So the model, exactly as sentence-transformers runs it (transformer, pooling, normalisation),
is exported once to ONNX beside its tokenizer, checked against sentence-transformers on texts in
the three languages, and kept in the models folder; later processes load only that.

Ingest (large batches, worker pools, GPUs) keeps sentence-transformers.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import shutil
import tempfile
import warnings
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer
    from tokenizers import Tokenizer

logger = logging.getLogger(__name__)

Vectors = npt.NDArray[np.float32]

FORMAT = 2
"""Changes whenever what is exported changes, so that older exports are made again."""
TOLERANCE = 1e-4
"""Largest difference from sentence-transformers' vector accepted when the export is checked."""
CHECK_TEXTS = (
    "Who signed the roadmap with GITIS?",
    "Министр культуры и информации Аида Балаева провела встречу с представителями интеллигенции.",
    "Мәдениет және ақпарат министрі Аида Балаева Шапағат медалін табыстады.",
    "x",
    "Who signed the roadmap with GITIS? ",
    " ".join(["The Days of Culture of Tajikistan were held in Astana in August 2023."] * 80),
)  # the three languages, a one-letter text, one ending in a space (sentence-transformers 6
# tokenises it, 5 strips it) and one the tokenizer must cut to the model's length
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


@dataclass(frozen=True)
class Meta:
    """What a saved export needs besides its graph and tokenizer."""

    format: int
    inputs: list[str]
    dim: int
    max_tokens: int
    pad_id: int
    pad_token: str
    lowercase: bool
    strip: bool  # sentence-transformers strips texts before tokenising them (before version 6)
    checked_difference: float
    source: str  # the model's location (a folder, or a name)


def export_folder(models_dir: Path, location: str) -> Path:
    """Where the export of a model lives: named by the model's location and, for a local
    folder, the names, sizes and times of its files (a changed model gets a new export)."""
    h = hashlib.sha256(f"{FORMAT}\n{location}".encode())
    root = Path(location)
    if root.is_dir():
        for p in sorted(root.rglob("*")):
            if p.is_file() and not any(part.startswith(".") for part in p.parts):
                st = p.stat()
                h.update(f"\n{p.relative_to(root)} {st.st_size} {st.st_mtime_ns}".encode())
    return Path(models_dir).expanduser() / "onnx" / h.hexdigest()[:16]


class OnnxModel:
    """A saved export: its tokenizer and an ONNX Runtime session of one thread per call
    (calls from several threads run side by side)."""

    def __init__(self, folder: Path) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.folder = folder
        raw = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        self.meta = Meta(**raw)
        if self.meta.format != FORMAT:
            raise ValueError(f"export format {self.meta.format}, not {FORMAT}")
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tokenizer.enable_truncation(self.meta.max_tokens)
        self._tokenizer.enable_padding(pad_id=self.meta.pad_id, pad_token=self.meta.pad_token)
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(
            str(folder / "model.onnx"), options, providers=["CPUExecutionProvider"]
        )

    @classmethod
    def open(cls, folder: Path) -> OnnxModel | None:
        """The export saved in ``folder``, or None when there is none or it cannot be loaded
        (a damaged one is logged and left to be made again)."""
        if not (folder / "meta.json").exists():
            return None
        try:
            return cls(folder)
        except Exception as exc:  # ONNX Runtime and tokenizers raise their own kinds
            logger.warning("the ONNX export in %s cannot be loaded (%s); making it again",
                           folder, exc)  # fmt: skip
            return None

    @property
    def dim(self) -> int:
        """Length of the vectors."""
        return self.meta.dim

    @property
    def max_tokens(self) -> int:
        """Longest input the model reads (special tokens included)."""
        return self.meta.max_tokens

    @functools.cached_property
    def _counter(self) -> Tokenizer:
        """The tokenizer without truncation or padding (loaded on first use: a question
        needs only the other)."""
        from tokenizers import Tokenizer

        return Tokenizer.from_file(str(self.folder / "tokenizer.json"))

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` without special tokens."""
        return len(self._counter.encode(text, add_special_tokens=False).ids)

    def tokenizer_json(self) -> str:
        """The tokenizer serialised (without truncation or padding)."""
        return str(self._counter.to_str())

    def encode(self, texts: list[str]) -> Vectors:
        """L2-normalised vectors of ``texts`` (prefixes already added), one row each."""
        if self.meta.strip:  # as sentence-transformers tokenises them
            texts = [t.strip() for t in texts]
        if self.meta.lowercase:
            texts = [t.lower() for t in texts]
        enc = self._tokenizer.encode_batch(texts)
        feeds = {
            "input_ids": np.asarray([e.ids for e in enc], dtype=np.int64),
            "attention_mask": np.asarray([e.attention_mask for e in enc], dtype=np.int64),
            "token_type_ids": np.asarray([e.type_ids for e in enc], dtype=np.int64),
        }
        out = self._session.run(None, {k: feeds[k] for k in self.meta.inputs})[0]
        vectors = np.asarray(out, dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        normalised: Vectors = (vectors / np.maximum(norms, 1e-12)).astype(np.float32)
        return normalised


def export(model: SentenceTransformer, folder: Path, prefix: str, source: str) -> OnnxModel:
    """Export ``model`` to ``folder`` (made atomically), check it, and open it; then remove
    the exports it replaces (:func:`prune`).

    Args:
        model: The loaded sentence-transformers model.
        folder: Where the export goes (:func:`export_folder`).
        prefix: A prefix the model's texts carry (the check texts get it too).
        source: The model's location, kept with the export.

    Returns:
        The opened export.

    Raises:
        ValueError: The model cannot be exported, or its export gives other vectors than
            sentence-transformers (by more than ``TOLERANCE``).
    """
    import torch
    from filelock import FileLock
    from tokenizers import Tokenizer

    backend = getattr(model.tokenizer, "backend_tokenizer", None)
    pad_id, pad_token = model.tokenizer.pad_token_id, model.tokenizer.pad_token
    if backend is None or pad_id is None or pad_token is None:
        raise ValueError("the model has no fast tokenizer with a padding token")
    tokenize = getattr(model, "preprocess", None) or model.tokenize
    features = tokenize([prefix + CHECK_TEXTS[0]])
    names = [k for k in _INPUTS if k in features]
    strip = tokenize([" x "])["input_ids"].tolist() == tokenize(["x"])["input_ids"].tolist()

    class Graph(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *args: torch.Tensor) -> torch.Tensor:
            out: dict[str, torch.Tensor] = self.model(dict(zip(names, args, strict=True)))
            return out["sentence_embedding"]

    folder.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(folder.parent / f".{folder.name}.lock")):
        opened = OnnxModel.open(folder)
        if opened is not None:
            return opened
        tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
        try:
            tokenizer = Tokenizer.from_str(backend.to_str())
            tokenizer.no_truncation()
            tokenizer.no_padding()
            tokenizer.save(str(tmp / "tokenizer.json"))
            axes: dict[str, Any] = {n: {0: "batch", 1: "tokens"} for n in names}
            with warnings.catch_warnings(), torch.inference_mode():
                warnings.simplefilter("ignore")
                torch.onnx.export(
                    Graph().eval(), tuple(features[n] for n in names), str(tmp / "model.onnx"),
                    input_names=names, output_names=["embedding"],
                    dynamic_axes={**axes, "embedding": {0: "batch"}}, opset_version=17,
                    dynamo=False,
                )  # fmt: skip
            expected = model.encode([prefix + t for t in CHECK_TEXTS], normalize_embeddings=True)
            meta = Meta(
                FORMAT, names, int(expected.shape[1]), int(model.max_seq_length or 512),
                int(pad_id), str(pad_token), bool(getattr(model[0], "do_lower_case", False)),
                strip, -1.0, source,
            )  # fmt: skip
            (tmp / "meta.json").write_text(json.dumps(asdict(meta)), encoding="utf-8")
            got = OnnxModel(tmp).encode([prefix + t for t in CHECK_TEXTS])
            diff = float(np.abs(got - expected).max())
            if diff > TOLERANCE:
                raise ValueError(f"the export differs from sentence-transformers by {diff:.1e}")
            checked = replace(meta, checked_difference=diff)
            (tmp / "meta.json").write_text(json.dumps(asdict(checked)), encoding="utf-8")
            if folder.exists():  # a damaged export that would not open
                shutil.rmtree(folder)
            tmp.chmod(0o755)  # mkdtemp makes it private; the converted models beside it are not
            os.replace(tmp, folder)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        prune(folder.parent, keep=folder)
    return OnnxModel(folder)


def prune(root: Path, keep: Path) -> list[Path]:
    """Remove the exports in ``root`` that can no longer be used: of an older format, of a
    model folder that is gone, or of an earlier version of ``keep``'s model (the same
    location, other files). Exports of other models stay.

    Returns:
        The folders removed.
    """
    source = json.loads((keep / "meta.json").read_text(encoding="utf-8")).get("source")
    removed = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if folder == keep:
            continue
        try:
            meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # being made by another process, or not an export
        was = meta.get("source")
        local_gone = isinstance(was, str) and os.path.isabs(was) and not os.path.exists(was)
        if meta.get("format") != FORMAT or was == source or local_gone:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


__all__ = ["OnnxModel", "export", "export_folder", "prune"]
