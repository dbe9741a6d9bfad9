"""Measure answers against a questions file: retrieval, accuracy, abstention, citations.

The questions file is JSON Lines, one question per line::

    {"id": "d01", "question": "...", "lang": "en", "type": "factoid",
     "answers": ["75", "seventy-five"], "gold": ["2023-01-16-kz-state-grants-culture.md"]}

``gold`` names the documents (file names) that hold the answer; an unanswerable question has
``type`` "unanswerable" (or no ``gold`` and no ``answers``).

Metrics:

- document hit@1, hit@5 and MRR over the answer's passages, taken as distinct documents in the
  order the answer ranks them (answerable questions only);
- answer accuracy: the answer does not abstain and its text contains one of the accepted answers
  (case- and whitespace-insensitive); a ``multi_doc`` question also needs two gold documents
  among its citations;
- abstention accuracy on unanswerable questions, false-abstention rate on answerable ones;
- citation validity: the share of citations whose quote stands verbatim at its offsets in the
  cited document;
- short-answer exact match and token F1 (SQuAD-style: lower-cased, punctuation and English
  articles dropped) of the answer's short answer — or, when it gives none, its first quote —
  against the best-matching accepted answer (answerable questions; an abstention scores 0);
- mean answer length in characters, and the latency of each ``ask``;
- label conflicts: unanswerable questions worded exactly as an answerable one of the same file
  (:func:`label_conflicts`). The two get the same response from the same documents, so one of
  them always counts as wrong; the report names them and gives the abstention accuracy on the
  other unanswerable questions beside the plain one;

each also broken down by question type and by language. With ``answer.backend = "llm"`` the
answer judged is the one shown (the written text when it passed the quote check), its latency
includes the writing, and the report adds the backend's figures (:func:`llm_figures`):
``gate_failures`` (the share of written answers that fell back to the quotes), the fallbacks by
kind, and the time to the first token and to the whole written answer.
"""

from __future__ import annotations

import json
import re
import statistics
import string
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from askculture.answering import Answer, ask
from askculture.errors import AskCultureError, ConfigError
from askculture.retrieval import open_index
from askculture.settings import Settings
from askculture.writing import Reply, write

UNANSWERABLE = "unanswerable"
MULTI_DOC = "multi_doc"


@dataclass(frozen=True, slots=True)
class EvalQuestion:
    """One question of an evaluation set."""

    id: str
    question: str
    lang: str
    type: str
    answers: tuple[str, ...]
    gold: tuple[str, ...]

    @property
    def answerable(self) -> bool:
        """False for questions the documents do not answer."""
        return self.type != UNANSWERABLE and bool(self.gold or self.answers)


@dataclass(slots=True)
class QuestionResult:
    """How one question fared."""

    id: str
    question: str
    lang: str
    type: str
    answerable: bool
    abstained: bool
    correct: bool
    hit_at_1: bool | None
    hit_at_5: bool | None
    reciprocal_rank: float | None
    ranked_documents: list[str]
    cited_documents: list[str]
    citations: int
    valid_citations: int
    answer: str
    answer_chars: int
    latency_ms: float
    short_answer: str | None = None
    short_answer_em: float | None = None
    short_answer_f1: float | None = None
    error: str | None = None
    written: bool | None = None
    fallback: str | None = None
    notice: str | None = None
    first_token_ms: float | None = None
    write_ms: float | None = None

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict."""
        return asdict(self)


@dataclass(slots=True)
class Summary:
    """Aggregate metrics over a set of results (``None`` where a metric does not apply)."""

    n: int
    hit_at_1: float | None
    hit_at_5: float | None
    mrr: float | None
    answer_accuracy: float | None
    abstention_accuracy: float | None
    false_abstention_rate: float | None
    citation_validity: float | None
    mean_answer_chars: float | None
    short_answer_em: float | None = None
    short_answer_f1: float | None = None

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict."""
        return asdict(self)


@dataclass(slots=True)
class EvalReport:
    """The whole evaluation: overall metrics, breakdowns and per-question results."""

    overall: Summary
    by_type: dict[str, Summary]
    by_lang: dict[str, Summary]
    questions: list[QuestionResult]
    median_latency_ms: float | None
    p90_latency_ms: float | None
    index_dir: str
    label_conflicts: list[str] = field(default_factory=list)
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def consistent_abstention(self) -> float | None:
        """Abstention accuracy on the unanswerable questions that are not label conflicts."""
        conflicts = set(self.label_conflicts)
        return _mean([float(r.abstained) for r in self.questions
                      if not r.answerable and r.id not in conflicts])  # fmt: skip

    def to_dict(self) -> dict[str, object]:
        """The JSON document ``askculture eval --json`` prints."""
        out: dict[str, object] = dict(self.overall.to_dict())
        out.pop("n")
        out.update(
            {
                "n_questions": self.overall.n,
                "median_latency_ms": self.median_latency_ms,
                "p90_latency_ms": self.p90_latency_ms,
                "index": self.index_dir,
                "label_conflicts": self.label_conflicts,
                "consistent_abstention_accuracy": self.consistent_abstention,
                "by_type": {k: v.to_dict() for k, v in self.by_type.items()},
                "by_lang": {k: v.to_dict() for k, v in self.by_lang.items()},
                "questions": [q.to_dict() for q in self.questions],
            }
        )
        out.update(self.extra)
        return out


def load_questions(path: str | Path) -> list[EvalQuestion]:
    """Read a questions file (JSON Lines, the ``dev.jsonl`` format).

    Args:
        path: The file.

    Returns:
        The questions, in file order.

    Raises:
        ConfigError: The file is missing or a line is not a valid question.
    """
    p = Path(path)
    try:
        lines = p.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(f"cannot read questions file {p}: {exc.strerror or exc}") from exc
    out: list[EvalQuestion] = []
    for no, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{p.name} line {no}: not JSON ({exc.msg})") from exc
        if not isinstance(data, dict) or not isinstance(data.get("question"), str):
            raise ConfigError(f'{p.name} line {no}: expected an object with a "question"')
        answers = data.get("answers") or []
        gold = data.get("gold") or []
        if not isinstance(answers, list) or not isinstance(gold, list):
            raise ConfigError(f'{p.name} line {no}: "answers" and "gold" must be lists')
        qtype = str(data.get("type") or ("factoid" if gold or answers else UNANSWERABLE))
        out.append(
            EvalQuestion(
                id=str(data.get("id") or f"q{no}"),
                question=data["question"],
                lang=str(data.get("lang") or "?"),
                type=qtype,
                answers=tuple(str(a) for a in answers),
                gold=tuple(Path(str(g)).name for g in gold),
            )
        )
    if not out:
        raise ConfigError(f"{p} holds no questions")
    return out


def _norm(text: str) -> str:
    return " ".join(text.casefold().split())


def label_conflicts(questions: Iterable[EvalQuestion]) -> list[str]:
    """The ids of unanswerable questions worded exactly as an answerable one of the same set.

    Asked of the same documents, both get the same response, so one of the two is scored wrong
    whatever the response. Suites built by removing some of a question's source paragraphs hold
    many (KazQAD pairs one question with several paragraphs).
    """
    qs = list(questions)
    flags = conflicting([q.question for q in qs], [q.answerable for q in qs])
    return [q.id for q, flag in zip(qs, flags, strict=True) if flag]


def conflicting(texts: Sequence[str], answerable: Sequence[bool]) -> list[bool]:
    """Per question: unanswerable, and worded exactly (case and spacing aside) as an answerable
    one of the same set (see :func:`label_conflicts`)."""
    answered = {_norm(t) for t, a in zip(texts, answerable, strict=True) if a}
    return [not a and _norm(t) in answered for t, a in zip(texts, answerable, strict=True)]


def contains_answer(text: str, answers: Iterable[str]) -> bool:
    """True when ``text`` contains one of ``answers`` (case- and whitespace-insensitive)."""
    hay = _norm(text)
    return any(_norm(a) and _norm(a) in hay for a in answers)


_ARTICLES = re.compile(r"\b(?:a|an|the)\b")
_PUNCT = str.maketrans("", "", string.punctuation + "«»“”„–—…")


def _squad_tokens(text: str) -> list[str]:
    """SQuAD's answer normalisation: lower case, no punctuation, no English articles."""
    return _ARTICLES.sub(" ", text.casefold().translate(_PUNCT)).split()


def short_answer_scores(prediction: str, answers: Iterable[str]) -> tuple[float, float]:
    """SQuAD-style exact match and token F1 of a prediction against the best accepted answer.

    Args:
        prediction: The predicted short answer.
        answers: The accepted answers.

    Returns:
        ``(exact match, F1)``, each the best over the accepted answers (0.0 when there are none).
    """
    pred = _squad_tokens(prediction)
    em = f1 = 0.0
    for a in answers:
        gold = _squad_tokens(a)
        em = max(em, float(pred == gold))
        common = sum((Counter(pred) & Counter(gold)).values())
        if common:
            p, r = common / len(pred), common / len(gold)
            f1 = max(f1, 2 * p * r / (p + r))
    return em, f1


def ranked_documents(answer: Answer) -> list[str]:
    """The file names of the answer's passages, as distinct documents in ranked order."""
    docs: list[str] = []
    for p in answer.passages:
        name = Path(p.path).name
        if name not in docs:
            docs.append(name)
    return docs


def score_answer(
    q: EvalQuestion,
    answer: Answer,
    doc_text: Callable[[str], str | None],
    latency_ms: float,
) -> QuestionResult:
    """Judge one answer.

    Args:
        q: The question with its accepted answers and gold documents.
        answer: What :func:`ask` returned.
        doc_text: The current text of a document by id (None when it is gone).
        latency_ms: How long ``ask`` took.

    Returns:
        The per-question result.
    """
    docs = ranked_documents(answer)
    cited = list(dict.fromkeys(Path(c.path).name for c in answer.citations))
    valid = 0
    for c in answer.citations:
        text = doc_text(c.doc_id)
        if text is not None and text[c.start : c.end] == c.quote:
            valid += 1
    hit1 = hit5 = None
    rr: float | None = None
    if q.answerable and q.gold:
        gold = set(q.gold)
        ranks = [i for i, d in enumerate(docs, start=1) if d in gold]
        hit1 = bool(ranks) and ranks[0] == 1
        hit5 = bool(ranks) and ranks[0] <= 5
        rr = 1.0 / ranks[0] if ranks else 0.0
    if q.answerable:
        correct = not answer.abstained and contains_answer(answer.text, q.answers)
        if correct and q.type == MULTI_DOC:
            correct = len(set(cited) & set(q.gold)) >= 2
    else:
        correct = answer.abstained
    em = f1 = None
    if q.answerable:
        shown = answer.short_answer or (answer.citations[0].quote if answer.citations else "")
        em, f1 = short_answer_scores(shown, q.answers) if not answer.abstained else (0.0, 0.0)
    return QuestionResult(
        id=q.id, question=q.question, lang=q.lang, type=q.type, answerable=q.answerable,
        abstained=answer.abstained, correct=correct, hit_at_1=hit1, hit_at_5=hit5,
        reciprocal_rank=rr, ranked_documents=docs[:10], cited_documents=cited,
        citations=len(answer.citations), valid_citations=valid, answer=answer.text,
        answer_chars=len(answer.text), latency_ms=round(latency_ms, 1),
        short_answer=answer.short_answer, short_answer_em=em, short_answer_f1=f1,
    )  # fmt: skip


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def summarise(results: list[QuestionResult]) -> Summary:
    """Aggregate metrics over some results."""
    ranked = [r for r in results if r.hit_at_1 is not None]
    answerable = [r for r in results if r.answerable]
    unanswerable = [r for r in results if not r.answerable]
    n_cit = sum(r.citations for r in results)
    return Summary(
        n=len(results),
        hit_at_1=_mean([float(bool(r.hit_at_1)) for r in ranked]),
        hit_at_5=_mean([float(bool(r.hit_at_5)) for r in ranked]),
        mrr=_mean([r.reciprocal_rank or 0.0 for r in ranked]),
        answer_accuracy=_mean([float(r.correct) for r in answerable]),
        abstention_accuracy=_mean([float(r.abstained) for r in unanswerable]),
        false_abstention_rate=_mean([float(r.abstained) for r in answerable]),
        citation_validity=round(sum(r.valid_citations for r in results) / n_cit, 4)
        if n_cit
        else None,
        mean_answer_chars=_mean([float(r.answer_chars) for r in results]),
        short_answer_em=_mean([r.short_answer_em or 0.0 for r in answerable]),
        short_answer_f1=_mean([r.short_answer_f1 or 0.0 for r in answerable]),
    )


def evaluate(
    questions: str | Path | list[EvalQuestion],
    index_dir: str | Path | None = None,
    *,
    settings: Settings | None = None,
    progress: Callable[[int, int, QuestionResult], None] | None = None,
) -> EvalReport:
    """Ask every question and measure the answers.

    Args:
        questions: A questions file or loaded questions.
        index_dir: The index to answer from (default: settings ``index.dir``).
        settings: Settings (default: from the environment).
        progress: Called after each question with ``(done, total, result)``.

    Returns:
        The report. A question that raises an :class:`AskCultureError` counts as an abstention
        and keeps the error message.

    Raises:
        ConfigError: The questions file is unusable.
        IndexStoreError: There is no usable index.
    """
    settings = settings or Settings()
    qs = load_questions(questions) if isinstance(questions, (str, Path)) else list(questions)
    retriever = open_index(index_dir, settings=settings)  # load before timing anything

    def doc_text(doc_id: str) -> str | None:
        try:
            return retriever.reader.document(doc_id).text
        except AskCultureError:
            return None

    results: list[QuestionResult] = []
    for i, q in enumerate(qs, start=1):
        t0 = time.perf_counter()
        error = None
        reply: Reply | None = None
        try:
            answer = ask(q.question, index_dir, settings=settings)
            if settings.answer.backend == "llm":
                reply = write(answer, settings)
                answer = replace(answer, text=reply.text)
        except AskCultureError as exc:
            answer = Answer(q.question, str(exc), [], True, [])
            error = str(exc)
        ms = (time.perf_counter() - t0) * 1000
        result = score_answer(q, answer, doc_text, ms)
        result.error = error
        if reply is not None and reply.attempted:
            result.written, result.fallback, result.notice = (
                reply.written,
                reply.fallback,
                reply.notice,
            )
            result.first_token_ms, result.write_ms = reply.first_token_ms, reply.write_ms
        results.append(result)
        if progress is not None:
            progress(i, len(qs), result)
    latencies = sorted(r.latency_ms for r in results)
    by_type = {t: summarise([r for r in results if r.type == t])
               for t in dict.fromkeys(r.type for r in results)}  # fmt: skip
    by_lang = {x: summarise([r for r in results if r.lang == x])
               for x in dict.fromkeys(r.lang for r in results)}  # fmt: skip
    return EvalReport(
        overall=summarise(results),
        by_type=by_type,
        by_lang=by_lang,
        questions=results,
        median_latency_ms=round(statistics.median(latencies), 1) if latencies else None,
        p90_latency_ms=round(latencies[int(0.9 * (len(latencies) - 1))], 1) if latencies else None,
        index_dir=str(index_dir if index_dir is not None else settings.index.dir),
        label_conflicts=label_conflicts(qs),
        extra=llm_figures(results, settings) if settings.answer.backend == "llm" else {},
    )


def llm_figures(results: list[QuestionResult], settings: Settings) -> dict[str, object]:
    """The written-answer figures of an ``answer.backend = "llm"`` run.

    Returns:
        ``backend``, ``model``, ``written_attempts`` (answers with evidence, which the model was
        asked to write), ``written_share`` (of those, shown as written), ``gate_failures`` (of
        those, fell back to the quotes), ``fallbacks`` by kind, and the median and p90 of
        ``first_token_ms`` and ``write_ms``.
    """
    tried = [r for r in results if r.written is not None]

    def pct(values: list[float], q: float) -> float | None:
        values = sorted(values)
        return round(values[int(q * (len(values) - 1))], 1) if values else None

    first = [r.first_token_ms for r in tried if r.first_token_ms is not None]
    whole = [r.write_ms for r in tried if r.write_ms is not None]
    return {
        "backend": "llm",
        "model": settings.llm.model,
        "base_url": settings.llm.base_url,
        "written_attempts": len(tried),
        "written_share": _mean([float(bool(r.written)) for r in tried]),
        "gate_failures": _mean([float(not r.written) for r in tried]),
        "fallbacks": dict(Counter(r.fallback for r in tried if r.fallback)),
        "median_first_token_ms": pct(first, 0.5),
        "p90_first_token_ms": pct(first, 0.9),
        "median_write_ms": pct(whole, 0.5),
        "p90_write_ms": pct(whole, 0.9),
    }


def format_report(report: EvalReport) -> str:
    """The report as a plain-text table for a terminal."""

    def f(x: float | None) -> str:
        return "   –  " if x is None else f"{x:6.3f}"

    head = (
        f"{'':18} {'n':>3}  {'hit@1':>6} {'hit@5':>6} {'MRR':>6}  {'acc':>6} {'abst':>6} "
        f"{'f-abst':>6} {'cites':>6} {'chars':>6} {'EM':>6} {'F1':>6}"
    )

    def row(name: str, s: Summary) -> str:
        chars = "   –  " if s.mean_answer_chars is None else f"{s.mean_answer_chars:6.0f}"
        return (
            f"{name:18} {s.n:>3}  {f(s.hit_at_1)} {f(s.hit_at_5)} {f(s.mrr)}  "
            f"{f(s.answer_accuracy)} {f(s.abstention_accuracy)} {f(s.false_abstention_rate)} "
            f"{f(s.citation_validity)} {chars} {f(s.short_answer_em)} {f(s.short_answer_f1)}"
        )

    lines = [head, row("overall", report.overall), "by type:"]
    lines += [row(f"  {k}", v) for k, v in report.by_type.items()]
    lines.append("by language:")
    lines += [row(f"  {k}", v) for k, v in report.by_lang.items()]
    lines.append(
        f"latency: median {report.median_latency_ms} ms, p90 {report.p90_latency_ms} ms "
        f"(per ask, index loaded)"
    )
    if report.label_conflicts:
        lines.append(
            f"label conflicts: {len(report.label_conflicts)} unanswerable questions are worded "
            f"exactly as an answerable one (the same response cannot be right for both); "
            f"abstention on the other unanswerable ones: {f(report.consistent_abstention).strip()}"
        )
    if report.extra.get("backend") == "llm":
        x = report.extra
        lines.append(
            f"llm {x['model']}: {x['written_attempts']} answers to write, written share "
            f"{x['written_share']}, gate_failures {x['gate_failures']} {x['fallbacks']}; first "
            f"token median {x['median_first_token_ms']} ms (p90 {x['p90_first_token_ms']}), "
            f"whole answer median {x['median_write_ms']} ms (p90 {x['p90_write_ms']})"
        )
    wrong = [r for r in report.questions if not r.correct]
    if wrong:
        lines.append("not correct: " + ", ".join(r.id for r in wrong))
    return "\n".join(lines)
