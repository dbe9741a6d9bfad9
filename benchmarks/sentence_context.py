"""Which context a candidate sentence is embedded with: measured, not assumed.

The reader's ``cos`` signal is the cosine of the question (``query:``) and one candidate
sentence (``passage:``) with some context. The shipped reader embeds ``"title. sentence"``
(:meth:`askculture.answering.features.SentenceEncoder.embedded_text`). This script measures that
against the other contexts the reader issue names, each the whole fitting pipeline of
``benchmarks/fit_reader.py`` on its own candidates:

- ``title``: ``"title. sentence"`` (shipped);
- ``bare``: the sentence alone;
- ``previous``: ``"title. previous sentence sentence"`` (the text from the previous sentence's
  start to this one's end; the first sentence has no previous one).

For each context it collects the candidates of every set on the plain search, exactly as
``fit_reader.py`` does, fits the shipped combination (the sample set's weight and the number of
sentences embedded, from ``reader.json``'s ``meta``; ``--grid`` fits the script's whole grid)
with folds grouped by article, and prints the cross-validated right-response share ("right",
the script's own criterion) and each set's figures with thresholds chosen on the other articles.

Run::

    .venv/bin/python benchmarks/sentence_context.py            # ~10 min per context, 2 cores
    .venv/bin/python benchmarks/sentence_context.py --contexts title,previous

Needs ``../shared/bench`` and ``../shared/eval/dev.jsonl`` (test data, never shipped) and
scikit-learn (``pip install -e '.[dev]'``).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import fit_reader as fr

from askculture.answering.features import DocView, SentenceEncoder
from askculture.answering.reader import load_reader
from askculture.settings import Settings


def _previous(doc: DocView, i: int) -> str:
    start, end = doc.spans[max(0, i - 1)][0], doc.spans[i][1]
    return f"{doc.title}. {doc.text[start:end]}" if doc.title else doc.text[start:end]


def _bare(doc: DocView, i: int) -> str:
    start, end = doc.spans[i]
    return doc.text[start:end]


CONTEXTS: dict[str, Callable[[DocView, int], str]] = {
    "title": SentenceEncoder.embedded_text,
    "bare": _bare,
    "previous": _previous,
}


def measure(context: str, work: Path, grid: bool) -> None:
    """Collect the candidates with this context, fit, and print the figures."""
    # The benchmark swaps what the encoder embeds; the product has one context, the best.
    SentenceEncoder.embedded_text = staticmethod(CONTEXTS[context])  # type: ignore[method-assign]
    settings = Settings()
    settings.retrieval.language_centering = 0.0  # as fit_reader.py collects
    (work / context).mkdir(parents=True, exist_ok=True)
    data: list[fr.SetData] = []
    for name, questions, corpus in fr.sets(fr.SHARED / "bench", fr.SHARED / "eval" / "dev.jsonl",
                                           work):  # fmt: skip
        cache = work / context / f"{name}.npz"
        d = fr.SetData.load(name, cache) if cache.exists() else None
        if d is None:
            t0 = time.perf_counter()
            # indexes and the sentence-vector cache (keyed by text) are shared by the contexts
            d = fr.collect(name, questions, corpus, work, settings)
            d.save(cache)
            print(f"  {context}: {name} collected in {time.perf_counter() - t0:.0f} s", flush=True)
        data.append(d)
    shipped = load_reader()
    if grid:
        reader, cv = fr.fit_reader(data)
    else:
        reader, cv = fr.fit_reader(data, [float(shipped.meta["news_weight"])], [shipped.embed_top])
    kept = f"news {reader.meta['news_weight']:g}, embed {reader.embed_top}"
    right = reader.meta["cv_right"][kept]  # type: ignore[index]
    print(f"{context}: right {right:.4f}, thresholds {reader.thresholds}")
    held: dict[str, dict[str, float | None]] = reader.meta["cv_held_out_thresholds"]
    print(f"  {'set':12} {'recall':>7} {'acc':>6} {'abst':>6} {'f-abst':>7}  (held out)")
    for name, f in cv.items():
        h = held[name]
        ab = "   –  " if h["abstention"] is None else f"{h['abstention']:6.3f}"
        print(f"  {name:12} {f['recall']:7.3f} {h['accuracy']:6.3f} {ab} "
              f"{h['false_abstention']:7.3f}")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--contexts", default=",".join(CONTEXTS), help="comma-separated")
    ap.add_argument("--work", type=Path, default=fr.ROOT / "benchmarks" / "results" / "context")
    ap.add_argument("--grid", action="store_true", help="fit the whole grid, not the shipped one")
    args = ap.parse_args(argv)
    for context in args.contexts.split(","):
        if context not in CONTEXTS:
            ap.error(f"unknown context {context!r}; choose from {', '.join(CONTEXTS)}")
        measure(context, args.work, args.grid)
    return 0


if __name__ == "__main__":
    sys.exit(main())
