"""Other ways of running the model give the same vectors as a plain in-process batch.

A pool of worker processes is the switch that moves ingest's embedding step onto GPUs or more
CPU workers (``ASKCULTURE_EMBEDDING__DEVICE`` / ``__PROCESSES``): the segments it writes must not
change. ``embed_few`` (queries, and the sentences the reader weighs) runs groups of texts side by
side on one thread each, on the model's ONNX export: the reader's fitted weights assume the same
vectors as sentence-transformers gives.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from askculture.embedding import SentenceTransformerEmbedder, get_embedder, resolve_model
from askculture.onnx_model import export_folder
from askculture.settings import SAMPLE_CORPUS_DIR, Settings


def test_a_worker_pool_gives_the_same_vectors(minilm: Settings) -> None:
    pooled_settings = minilm.embedding.model_copy()
    pooled_settings.processes = 2
    pooled = get_embedder(pooled_settings)
    single = get_embedder(minilm.embedding)
    texts = [p.read_text(encoding="utf-8")[200:900] for p in sorted(SAMPLE_CORPUS_DIR.glob("*.md"))]
    assert len(texts) > pooled.batch_size  # enough to go through the pool
    try:
        a = pooled.embed_passages(texts)
        assert pooled._pool is not None and len(pooled._pool["processes"]) == 2
    finally:
        pooled.close()
    b = single.embed_passages(texts)
    assert a.shape == b.shape == (len(texts), single.dim)
    assert np.allclose(a, b, atol=1e-5)


def test_a_few_texts_side_by_side_give_the_same_vectors_in_order(e5: Settings) -> None:
    embedder = get_embedder(e5.embedding)
    texts = [
        "Ministry of Culture and Information.",
        "The roadmap with GITIS was signed in Astana in 2024, together with two memoranda.",
        "Казахстан и Россия подписали дорожную карту.",
        "Мәдениет министрлігі.",
        "Days of Culture of Tajikistan were held in Kazakhstan in August 2023.",
    ]
    few = embedder.embed_few(texts)
    batch = embedder.embed_passages(texts)
    assert few.shape == batch.shape == (len(texts), embedder.dim)
    assert np.allclose(few, batch, atol=1e-5)
    query = embedder.embed_few(texts[1:2], query=True)[0]
    assert np.allclose(query, embedder.embed_query(texts[1]), atol=1e-6)
    assert not np.allclose(query, batch[1], atol=1e-3)  # the query prefix was added


QUESTION_TEXTS = [
    "Who signed the roadmap with GITIS?",
    "Какие меморандумы подписаны в ноябре 2023?",
    "Мәдениет және ақпарат министрі кім?",
    "Who signed the roadmap with GITIS? ",
    " ".join(["Days of Culture of Tajikistan were held in Kazakhstan in August 2023."] * 60),
]  # the three languages, a space at the end (tokenised by sentence-transformers 6), and a text
# the tokenizer must cut to the model's 512 tokens


@pytest.mark.parametrize("model", ["e5", "minilm"])
def test_questions_run_on_the_onnx_export_and_get_torch_s_vectors(
    model: str, request: pytest.FixtureRequest
) -> None:
    settings: Settings = request.getfixturevalue(model)
    fast = get_embedder(settings.embedding)
    plain = get_embedder(settings.embedding.model_copy(update={"runtime": "torch"}))
    assert (fast.runtime, plain.runtime) == ("onnx", "torch")
    assert np.allclose(fast.embed_few(QUESTION_TEXTS), plain.embed_few(QUESTION_TEXTS), atol=1e-5)
    for text in QUESTION_TEXTS:
        assert np.allclose(fast.embed_query(text), plain.embed_query(text), atol=1e-5)
    assert [fast.count_tokens(t) for t in QUESTION_TEXTS] == [
        plain.count_tokens(t) for t in QUESTION_TEXTS
    ]
    assert plain.count_tokens(QUESTION_TEXTS[-1]) > fast.max_tokens  # it was cut, and alike
    assert (fast.dim, fast.max_tokens, fast.text_budget) == (
        plain.dim, plain.max_tokens, plain.text_budget,
    )  # fmt: skip
    assert fast.tokenizer_json() == plain.tokenizer_json()


def test_a_damaged_export_is_made_again_and_replaced_ones_removed(
    e5: Settings, tmp_path: Path
) -> None:
    spec = resolve_model(e5.embedding)
    made = get_embedder(e5.embedding)._onnx
    assert made is not None
    folder = export_folder(tmp_path, spec.location)
    shutil.copytree(made.folder, folder)
    (folder / "model.onnx").write_bytes((folder / "model.onnx").read_bytes()[:5000])
    others = {  # exports beside it: which the new export makes useless, which another model's
        "older-format": {"format": 1},
        "model-gone": {"source": str(tmp_path / "deleted-model")},
        "earlier-version": {},  # the same location: its files were other ones
        "another-model": {"source": str(tmp_path)},
    }
    for name, change in others.items():
        meta = json.loads((made.folder / "meta.json").read_text(encoding="utf-8"))
        (tmp_path / "onnx" / name).mkdir()
        (tmp_path / "onnx" / name / "meta.json").write_text(json.dumps({**meta, **change}))
    embedder = SentenceTransformerEmbedder(spec, models_dir=tmp_path)
    assert embedder.runtime == "onnx"
    assert (folder / "model.onnx").stat().st_size == (made.folder / "model.onnx").stat().st_size
    assert folder.stat().st_mode & 0o777 == 0o755  # readable beside the converted models
    left = {p.name for p in (tmp_path / "onnx").iterdir() if not p.name.startswith(".")}
    assert left == {folder.name, "another-model"}
    q = QUESTION_TEXTS[1]
    assert np.allclose(
        embedder.embed_query(q), get_embedder(e5.embedding).embed_query(q), atol=1e-6
    )


def test_a_question_loads_neither_torch_nor_sentence_transformers(e5_index: Path) -> None:
    script = (
        "import sys, askculture\n"
        f"a = askculture.ask('Who signed the roadmap with GITIS?', index_dir={str(e5_index)!r})\n"
        "assert a.citations, a.text\n"
        "print(sorted(m for m in ('torch', 'transformers', 'sentence_transformers') "
        "if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"
