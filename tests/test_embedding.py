"""Other ways of running the model give the same vectors as a plain in-process batch.

A pool of worker processes is the switch that moves ingest's embedding step onto GPUs or more
CPU workers (``ASKCULTURE_EMBEDDING__DEVICE`` / ``__PROCESSES``): the segments it writes must not
change. ``embed_few`` (queries, and the sentences the reader weighs) runs groups of texts side by
side on one thread each: the reader's fitted weights assume the same vectors.
"""

from __future__ import annotations

import numpy as np

from askculture.embedding import get_embedder
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
