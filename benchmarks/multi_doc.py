"""Measure answers to questions about two events of different years (multi-document questions).

The QA suites hold one-document questions over undated paragraphs, so they cannot show whether
``ask`` answers a question in parts from the documents of each part's year
(``askculture.answering.ask.read_by_year``). This script makes such questions from a suite:

1. a copy of the suite's corpus in which every article's paragraphs are dated in a year of
   their own (XQuAD: 2000 + the article's number; KazQAD, whose articles are its titles: 2001,
   2002, ... in title order, starting again after 2099);
2. pairs of answerable questions about two different articles, joined into one question in the
   questions' language: "<first> in 2003, and <second> in 2011?", "<первый> в 2003 году, а
   <второй> в 2011 году?", "2003 жылы <бірінші>, ал 2011 жылы <екінші>?" (``xquad-x``'s
   questions are asked in the other language than their paragraphs);
3. each question asked with the rule on and off (off: the question is read whole).

A pair is answered when the answer cites both gold paragraphs and holds an accepted answer of
each part; "cited both" counts the two citations alone.

Run::

    .venv/bin/python benchmarks/multi_doc.py                 # the four suites, 150 pairs each
    .venv/bin/python benchmarks/multi_doc.py --suites xquad-en --pairs 50

Needs ``../shared/bench`` (test data, never shipped).
"""

from __future__ import annotations

import argparse
import importlib
import json
import random
import re
import sys
import time
from pathlib import Path
from unittest import mock

from askculture import ask
from askculture.evaluation import contains_answer
from askculture.ingest import ingest
from askculture.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
SUITES = ("xquad-en", "xquad-ru", "xquad-x", "kazqad-kk")
_ARTICLE = re.compile(r"-(\d+)-\d+\.md$")
_TITLE = re.compile(r"^title:\s*(.*)$", re.MULTILINE)


def dated_copy(corpus: Path, out: Path) -> dict[str, int]:
    """Copy ``corpus`` into ``out`` with each article's paragraphs dated in its own year."""
    out.mkdir(parents=True, exist_ok=True)
    texts = {path.name: path.read_text(encoding="utf-8") for path in sorted(corpus.glob("*.md"))}
    titles = {name: (m.group(1) if (m := _TITLE.search(t)) else name) for name, t in texts.items()}
    order = {title: k for k, title in enumerate(sorted(set(titles.values())))}
    years: dict[str, int] = {}
    for name, text in texts.items():
        m = _ARTICLE.search(name)
        years[name] = 2000 + int(m.group(1)) if m else 2001 + order[titles[name]] % 99
        text = text.replace("---\n", f"---\ndate: {years[name]}-06-15\n", 1)
        (out / name).write_text(text, encoding="utf-8")
    return years


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def join(lang: str, first: str, second: str, ya: int, yb: int) -> str:
    """Two questions as one, each with its year, in their language (English for others)."""
    first, second = first.rstrip(" ?"), _lower_first(second.rstrip(" ?"))
    if lang == "ru":
        return f"{first} в {ya} году, а {second} в {yb} году?"
    if lang == "kk":
        return f"{ya} жылы {_lower_first(first)}, ал {yb} жылы {second}?"
    return f"{first} in {ya}, and {second} in {yb}?"


def pairs(questions: Path, years: dict[str, int], n: int) -> list[dict[str, object]]:
    """``n`` two-part questions joined from answerable questions of different years, both
    in one language."""
    rows = [json.loads(line) for line in questions.read_text(encoding="utf-8").splitlines()]
    rows = [r for r in rows if r.get("answers") and r.get("gold") and r["gold"][0] in years]
    rng = random.Random(0)
    out: list[dict[str, object]] = []
    while len(out) < n:
        a, b = rng.sample(rows, 2)
        ya, yb = years[a["gold"][0]], years[b["gold"][0]]
        if ya == yb or a["lang"] != b["lang"]:
            continue
        joined = join(a["lang"], a["question"], b["question"], ya, yb)
        out.append({"question": joined, "parts": [a, b]})
    return out


def judge(item: dict[str, object], settings: Settings, index: Path) -> dict[str, bool]:
    """Whether the answer cites both gold paragraphs, and holds an answer of each part."""
    answer = ask(str(item["question"]), index, settings=settings)
    cited = {Path(c.path).name for c in answer.citations}
    parts = item["parts"]
    assert isinstance(parts, list)
    both = all(p["gold"][0] in cited for p in parts)
    answered = both and all(contains_answer(answer.text, p["answers"]) for p in parts)
    return {"cited_both": both, "answered": answered, "abstained": answer.abstained}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--bench", type=Path, default=SHARED / "bench")
    ap.add_argument("--suites", default=",".join(SUITES))
    ap.add_argument("--pairs", type=int, default=150)
    ap.add_argument("--work", type=Path, default=ROOT / "benchmarks" / "results" / "multi_doc")
    args = ap.parse_args(argv)
    settings = Settings()
    print(f"{'suite':10} {'rule':5} {'pairs':>5} {'answered':>9} {'cited both':>11} "
          f"{'abstained':>10} {'s/question':>10}")  # fmt: skip
    for suite in args.suites.split(","):
        corpus, index = args.work / suite / "corpus", args.work / suite / "index"
        years = dated_copy(args.bench / suite / "corpus", corpus)
        if not index.exists():
            ingest([corpus], index, settings=settings)
        items = pairs(args.bench / suite / "questions.jsonl", years, args.pairs)
        for rule in (True, False):
            module = importlib.import_module("askculture.answering.ask")
            off = mock.patch.object(module, "year_parts", lambda _text: {})
            t0 = time.perf_counter()
            if rule:
                results = [judge(item, settings, index) for item in items]
            else:
                with off:
                    results = [judge(item, settings, index) for item in items]
            secs = (time.perf_counter() - t0) / len(items)
            share = {k: sum(r[k] for r in results) / len(results) for k in results[0]}
            print(f"{suite:10} {'on' if rule else 'off':5} {len(items):5} "
                  f"{share['answered']:9.3f} {share['cited_both']:11.3f} "
                  f"{share['abstained']:10.3f} {secs:10.2f}", flush=True)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
