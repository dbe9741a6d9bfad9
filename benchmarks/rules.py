"""Does each remaining hand-made rule of the answering step earn its place? Measured on every set.

Three rules are left beside the fitted reader, each switchable in the settings:

- ``split_compound``: a compound question ("Which medal ..., and which anniversary ...?") is
  answered part by part (``answer.split_compound``);
- ``year_search``: a year the question names also runs a search limited to that year
  (``answer.year_search``);
- ``list``: a question asking for several things ("which two ...", "какие ...") quotes the best
  sentence of every document the reader finds probable enough (``answer.max_list_sentences``;
  1 = off).

For each set (the four public suites in ``../shared/bench`` and the sample set) and each rule,
this runs ``askculture eval`` twice — rule on, rule off — on the questions the rule can touch
(the others get the same answer either way) and prints the difference. A rule is kept only
where it is not worse on any set and better on at least one.

Run::

    .venv/bin/python benchmarks/rules.py        # indexes are shared with benchmarks/qa.py
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from qa import SETS, paths  # benchmarks/qa.py

from askculture.answering.question import analyse_question, split_question
from askculture.evaluation import EvalQuestion, evaluate, load_questions
from askculture.ingest import ingest
from askculture.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "benchmarks" / "results" / "reader"

RULES: dict[str, tuple[Callable[[EvalQuestion], bool], Callable[[Settings], None]]] = {
    "split_compound": (
        lambda q: len(split_question(q.question)) > 1,
        lambda s: setattr(s.answer, "split_compound", False),
    ),
    "year_search": (
        lambda q: bool(analyse_question(q.question).years),
        lambda s: setattr(s.answer, "year_search", False),
    ),
    "list": (
        lambda q: analyse_question(q.question).is_list,
        lambda s: setattr(s.answer, "max_list_sentences", 1),
    ),
}


def main() -> int:
    print(f"{'rule':15} {'set':11} {'n':>4}  {'acc on':>6} {'off':>6}  {'abst on':>7} {'off':>6}")
    for name in SETS:
        questions, corpus = paths(name)
        index = WORK / f"ix-{name}"
        if not (index / "CURRENT").exists():
            ingest([corpus], index, settings=Settings())
        qs = load_questions(questions)
        for rule, (touches, switch_off) in RULES.items():
            mine = [q for q in qs if touches(q)]
            if not mine:
                print(f"{rule:15} {name:11} {0:4}  (never applies)")
                continue
            off = Settings()
            switch_off(off)
            a = evaluate(mine, index, settings=Settings()).overall
            b = evaluate(mine, index, settings=off).overall

            def f(x: float | None) -> str:
                return "   –  " if x is None else f"{x:6.3f}"

            print(f"{rule:15} {name:11} {len(mine):4}  {f(a.answer_accuracy)} "
                  f"{f(b.answer_accuracy)}  {f(a.abstention_accuracy)} "
                  f"{f(b.abstention_accuracy)}", flush=True)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
