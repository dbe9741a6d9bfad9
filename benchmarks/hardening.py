"""Hardening drivers shared by ``tests/test_hardening.py`` (light) and ``run.py`` (heavy).

* :func:`crash_trials`: ``kill -9`` a real ``askculture ingest`` (committing, or merging at
  commit) or ``askculture compact`` at random moments; after each kill the index must open and
  equal either the state before or the state after.
* :func:`searches_during_ingests`: threads search and re-open the index while ingests commit;
  every reader must see a whole generation.
* :func:`run_bad_files`: ingest the generated malformed files beside good ones.
* :func:`index_state`: open an index and check that it is whole (vectors, chunks, lexical ids,
  documents agree); return what it holds.

Subprocesses use the bundled MiniLM (``ASKCULTURE_EMBEDDING__MODEL=minilm``) for speed.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from askculture.documents import iter_files, load_file
from askculture.settings import SAMPLE_CORPUS_DIR, Settings
from askculture.store import IndexReader

sys.path.insert(0, str(Path(__file__).resolve().parent))
from malformed import write_malformed, write_special_paths

SAMPLE_FILES = sorted(SAMPLE_CORPUS_DIR.glob("*.md"))


class BrokenIndexError(AssertionError):
    """An index that opened but is not whole."""


def cli(*args: str) -> list[str]:
    """The ``askculture`` command line, run with this interpreter."""
    return [sys.executable, "-m", "askculture.cli", *args]


def minilm_env(**extra: str) -> dict[str, str]:
    """The environment for askculture subprocesses: MiniLM, plus ``extra`` settings."""
    env = {**os.environ, "ASKCULTURE_EMBEDDING__MODEL": "minilm", **extra}
    env.pop("ASKCULTURE_INDEX__DIR", None)
    return env


# --------------------------------------------------------------------------------------------
# What an index holds, and whether it is whole
# --------------------------------------------------------------------------------------------


def index_state(index: Path) -> dict[str, str]:
    """``{document id: text sha256}`` of the live generation, after checking it is whole.

    Raises:
        IndexStoreError: The index does not open.
        BrokenIndexError: It opens but its parts disagree.
    """
    reader = IndexReader.open(index)
    try:
        return _check_whole(reader)
    finally:
        reader.close()


def _check_whole(reader: IndexReader) -> dict[str, str]:
    m = reader.manifest
    vec_ids: set[int] = set()
    for seg in reader.segments:  # every live chunk has a vector in its segment
        stored = faiss.vector_to_array(seg.data.vectors.id_map).astype(np.int64)
        vec_ids.update(set(stored.tolist()) - set(seg.deleted.tolist()))
    lex_ids = set(reader.chunk_ids().astype(np.int64).tolist())
    docs = reader.documents()
    chunk_ids: set[int] = set()
    for doc in docs:
        stored = reader.doc_chunks(doc.id)
        if not stored:
            raise BrokenIndexError(f"{reader.generation.name}: document {doc.id} has no chunks")
        for ch in stored:
            if doc.text[ch.chunk.start : ch.chunk.end] != ch.chunk.text:
                raise BrokenIndexError(f"{reader.generation.name}: chunk offsets are wrong")
            chunk_ids.add(ch.rowid)
    problems = []
    if len(vec_ids) != m.counts.get("chunks"):
        problems.append(f"{len(vec_ids)} vectors, manifest says {m.counts.get('chunks')}")
    if vec_ids != chunk_ids:
        problems.append(f"{len(vec_ids)} vectors vs {len(chunk_ids)} chunks")
    if lex_ids != chunk_ids:
        problems.append(f"{len(lex_ids)} lexical ids vs {len(chunk_ids)} chunks")
    if len(docs) != m.counts.get("documents"):
        problems.append(f"{len(docs)} documents, manifest says {m.counts.get('documents')}")
    if problems:
        raise BrokenIndexError(f"{reader.generation.name}: " + "; ".join(problems))
    if vec_ids:
        probe = reader.vector(next(iter(vec_ids)))
        if not reader.search_dense(probe, 3):
            raise BrokenIndexError(f"{reader.generation.name}: dense search finds nothing")
    return {d.id: d.sha256 for d in docs}


def corpus_state(folder: Path) -> dict[str, str]:
    """What an index of exactly the files in ``folder`` must hold: ``{doc id: sha256}``."""
    return {
        d.id: d.sha256 for p in iter_files([folder]) for d in load_file(p.resolve())
    }  # fmt: skip


def set_corpus(folder: Path, files: list[tuple[str, str]]) -> None:
    """Make ``folder`` hold exactly ``files`` (name, text), touching only what changes."""
    folder.mkdir(parents=True, exist_ok=True)
    wanted = dict(files)
    for p in folder.iterdir():
        if p.name not in wanted:
            p.unlink()
    for name, text in files:
        path = folder / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")


def corpus_variants() -> list[list[tuple[str, str]]]:
    """Three corpora to move an index between: small, bigger, and small with one file changed."""
    texts = [(p.name, p.read_text(encoding="utf-8")) for p in SAMPLE_FILES]
    small = texts[:4]
    bigger = texts[:10]
    name, text = texts[0]
    changed = [(name, text + "\nA paragraph added later to change this file.\n"), *texts[1:4]]
    return [small, bigger, changed]


# --------------------------------------------------------------------------------------------
# kill -9 during ingest
# --------------------------------------------------------------------------------------------


@dataclass
class CrashTrial:
    """One killed process."""

    kind: str  # "ingest", "ingest-merging" (every commit merges) or "compact"
    target: int
    delay: float
    outcome: str  # "before", "after", or what went wrong
    seconds_to_check: float
    segments: int = 0
    """Segments of the index after the kill."""


@dataclass
class CrashReport:
    """All trials of :func:`crash_trials`."""

    full_ingest_s: float
    full_compact_s: float = 0.0
    trials: list[CrashTrial] = field(default_factory=list)

    @property
    def failures(self) -> list[CrashTrial]:
        """Trials after which the index was neither the old nor the new state."""
        return [t for t in self.trials if t.outcome not in ("before", "after")]

    def counts(self) -> dict[str, dict[str, int]]:
        """``{kind: {outcome: trials}}`` (outcomes other than before/after count as BROKEN)."""
        out: dict[str, dict[str, int]] = {}
        for t in self.trials:
            key = t.outcome if t.outcome in ("before", "after") else "BROKEN"
            per = out.setdefault(t.kind, {})
            per[key] = per.get(key, 0) + 1
        return out


def _run(args: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    proc = subprocess.run(cli(*args), env=env, capture_output=True, text=True, timeout=600)
    if proc.returncode not in (0, 3):
        raise RuntimeError(f"{args[0]} failed ({proc.returncode}): {proc.stderr.strip()[-500:]}")
    return time.perf_counter() - started


def _ingest_args(corpus: Path, index: Path) -> list[str]:
    return ["ingest", str(corpus), "--index", str(index), "--prune"]


def _kill_after(args: list[str], env: dict[str, str], delay: float) -> bool:
    """Run the CLI with ``args``; SIGKILL it after ``delay`` s. True when it was killed."""
    proc = subprocess.Popen(
        cli(*args), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )  # fmt: skip
    try:
        proc.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
    return proc.wait() == -signal.SIGKILL


def _outcome(index: Path, before: dict[str, str], after: dict[str, str]) -> tuple[str, int]:
    try:
        now = index_state(index)
        segments = len(IndexReader.open(index).segments)
    except Exception as exc:
        return f"broken: {type(exc).__name__}: {exc}", 0
    if now == before:
        return "before", segments
    if now == after:
        return "after", segments
    return f"neither: {len(now)} documents (before {len(before)}, after {len(after)})", segments


KINDS = ("ingest", "ingest-merging", "compact")


def crash_trials(work: Path, trials: int, seed: int = 0) -> CrashReport:
    """Kill ``trials`` CLI processes with SIGKILL at random moments; check the index each time.

    The trials cycle through three kinds: an ingest (4 -> 10 -> 4 changed files: new segments
    and deletions); an ingest whose commit merges every small segment
    (``ASKCULTURE_INDEX__MERGE_FACTOR=2``: the kill may land in the merge); and ``askculture
    compact`` after an ingest left several segments. Half of the kills fall anywhere in the
    process's calibrated duration (start-up included), half in its last 40% (where it writes
    and commits). After a killed ingest the index must hold exactly the documents of before or
    after it; after a killed compaction, exactly the documents it held (nothing committed may be
    lost), whether or not the merge was switched in.
    """
    rnd = random.Random(seed)
    corpus, index = work / "corpus", work / "index"
    variants = corpus_variants()
    env = minilm_env()
    merging = minilm_env(ASKCULTURE_INDEX__MERGE_FACTOR="2")
    set_corpus(corpus, variants[0])
    _run(_ingest_args(corpus, index), env)
    set_corpus(corpus, variants[1])
    full = _run(_ingest_args(corpus, index), env)  # calibrate: a complete ingest, 4 -> 10 files
    full_compact = _run(["compact", "--index", str(index)], env)
    report = CrashReport(full_ingest_s=full, full_compact_s=full_compact)
    current = 1
    for i in range(trials):
        kind = KINDS[i % len(KINDS)]
        target = rnd.choice([v for v in range(len(variants)) if v != current])
        set_corpus(corpus, variants[target])
        if kind == "compact":  # first an ingest that leaves more segments to merge
            _run(_ingest_args(corpus, index), env)
            current = target
        after = corpus_state(corpus)
        before = index_state(index)
        span = full_compact if kind == "compact" else full
        delay = rnd.uniform(0.05, 1.1 * span) if i % 2 == 0 else rnd.uniform(0.6, 1.1) * span
        if kind == "compact":
            _kill_after(["compact", "--index", str(index)], env, delay)
        else:
            _kill_after(_ingest_args(corpus, index), merging if kind != "ingest" else env, delay)
        t0 = time.perf_counter()
        outcome, segments = _outcome(index, before, after)
        report.trials.append(
            CrashTrial(kind, target, delay, outcome, time.perf_counter() - t0, segments)
        )
        if outcome == "after":
            current = target
        elif outcome == "before":
            set_corpus(corpus, variants[current])
        else:
            break
    return report


@dataclass
class CompactKillReport:
    """Outcome of :func:`compact_kill_trials`."""

    full_compact_s: float
    trials: list[dict[str, Any]] = field(default_factory=list)

    @property
    def killed_before_switch(self) -> int:
        """Kills that left the segments unmerged (they landed in the merge or before it)."""
        return sum(1 for t in self.trials if t["killed"] and t["segments_after"] > 1)

    @property
    def broken(self) -> int:
        """Trials after which the index was not whole with the same documents."""
        return sum(1 for t in self.trials if t["outcome"] != "same documents")


def compact_kill_trials(work: Path, trials: int, seed: int = 1) -> CompactKillReport:
    """``kill -9`` ``askculture compact`` while it merges a 12,000-chunk index of 5 segments.

    A small corpus compacts in a blink after seconds of start-up, so kills would rarely land in
    the merge; this index takes seconds to merge. Each trial rebuilds it (synthetic chunks, a few
    documents deleted), kills the compaction at a random moment of its calibrated duration and
    checks the index opens whole and holds the same documents.
    """
    from synth import Vocabulary, build_index

    from askculture.store import IndexWriter, Manifest

    rnd = random.Random(seed)
    index = work / "index"
    manifest = Manifest(
        model="minilm", model_id="sentence-transformers/all-MiniLM-L6-v2", dim=384,
        query_prefix="", passage_prefix="", chunking={},
    )  # fmt: skip
    vocab = Vocabulary.from_sample()
    env = minilm_env()

    def build() -> None:
        shutil.rmtree(index, ignore_errors=True)
        build_index(
            index, 12_000, manifest, vocab, exact_search_max=20_000, segment_chunks=2_500,
            words_per_chunk=100,
        )  # fmt: skip
        reader = IndexReader.open(index)
        rows = reader.segments[0].con.execute("SELECT path FROM documents LIMIT 3")
        paths, live = [r[0] for r in rows], reader.manifest
        with IndexWriter(index, live, merge_factor=100) as writer:
            for path in paths:
                writer.remove_file(path)

    build()
    full = _run(["compact", "--index", str(index)], env)
    report = CompactKillReport(full)
    for _ in range(trials):
        build()
        before = index_state(index)
        delay = rnd.uniform(0.3, 1.0) * full
        killed = _kill_after(["compact", "--index", str(index)], env, delay)
        try:
            now = index_state(index)
            segments = len(IndexReader.open(index).segments)
            outcome = (
                "same documents" if now == before else f"{len(now)} documents, not {len(before)}"
            )
        except Exception as exc:
            outcome, segments = f"broken: {type(exc).__name__}: {exc}", -1
        report.trials.append(
            {"delay": round(delay, 2), "killed": killed,
             "segments_after": segments, "outcome": outcome}
        )  # fmt: skip
    return report


# --------------------------------------------------------------------------------------------
# Searches while ingests commit
# --------------------------------------------------------------------------------------------


@dataclass
class ConcurrencyReport:
    """What the searching threads saw while ingests committed."""

    commits: int
    checks: int
    searches: int
    generations_seen: int
    errors: list[str]


def searches_during_ingests(
    work: Path, settings: Settings, rounds: int = 4, threads: int = 3
) -> ConcurrencyReport:
    """Ingest ``rounds`` times (alternating corpora) while ``threads`` threads read the index.

    Half of the threads open the live generation and check it is whole, over and over; the
    others run ``askculture.retrieve`` (which re-opens the index when it changes).
    """
    import askculture

    corpus, index = work / "corpus", work / "index"
    variants = corpus_variants()
    set_corpus(corpus, variants[0])
    askculture.ingest([corpus], index, prune=True, settings=settings)
    stop = threading.Event()
    errors: list[str] = []
    counts = {"checks": 0, "searches": 0}
    generations: set[str] = set()
    lock = threading.Lock()

    def checker() -> None:
        while not stop.is_set():
            try:
                reader = IndexReader.open(index)
                try:
                    _check_whole(reader)
                    with lock:
                        generations.add(reader.generation.name)
                        counts["checks"] += 1
                finally:
                    reader.close()
            except Exception as exc:
                with lock:
                    errors.append(f"check: {type(exc).__name__}: {exc}")

    def searcher() -> None:
        questions = ["Who signed the roadmap with GITIS?", "state grants culture", "Абай опера"]
        n = 0
        while not stop.is_set():
            try:
                hits = askculture.retrieve(questions[n % 3], 5, index, settings=settings)
                if not hits:
                    raise AssertionError("no results")
                with lock:
                    counts["searches"] += 1
            except Exception as exc:
                with lock:
                    errors.append(f"search: {type(exc).__name__}: {exc}")
            n += 1

    pool = [
        threading.Thread(target=checker if i % 2 == 0 else searcher, daemon=True)
        for i in range(threads)
    ]
    for t in pool:
        t.start()
    try:
        for r in range(rounds):
            set_corpus(corpus, variants[(r + 1) % len(variants)])
            askculture.ingest([corpus], index, prune=True, settings=settings)
        time.sleep(0.5)
    finally:
        stop.set()
        for t in pool:
            t.join(timeout=60)
    return ConcurrencyReport(rounds, counts["checks"], counts["searches"], len(generations), errors)


# --------------------------------------------------------------------------------------------
# Malformed files beside good ones
# --------------------------------------------------------------------------------------------


@dataclass
class BadFilesReport:
    """Outcome of :func:`run_bad_files`."""

    files: int
    malformed: int
    skipped: dict[str, str]
    indexed: list[str]
    good_indexed: int
    good_total: int
    seconds: float
    slowest: list[tuple[str, float]]
    problems: list[str]
    error: str | None = None


def run_bad_files(
    work: Path,
    settings: Settings,
    *,
    big_mb: int = 20,
    good: int = 3,
) -> BadFilesReport:
    """Ingest the malformed set (plus special paths named directly) beside ``good`` good files.

    Checks that the run finishes, that every malformed file is either skipped with a reason or
    (when its case allows) indexed, that each "skip" case is skipped, and that the good files
    are indexed.
    """
    import askculture

    folder = work / "mixed"
    cases = write_malformed(folder, big_mb=big_mb)
    special = write_special_paths(work / "special")
    good_names = [p.name for p in SAMPLE_FILES[:good]]
    for name in good_names:
        shutil.copy(SAMPLE_CORPUS_DIR / name, folder / name)
    targets = [folder, special["fifo"], special["dev_zero"], special["folder"]]
    times: dict[str, float] = {}
    last: list[Any] = [None, time.perf_counter()]

    def progress(done: int, total: int, path: str) -> None:
        now = time.perf_counter()
        if last[0] and path:  # the last file's interval also holds the final embedding
            times[last[0]] = now - last[1]
        last[0], last[1] = path, now

    started = time.perf_counter()
    try:
        report = askculture.ingest(targets, work / "index", settings=settings, progress=progress)
    except Exception as exc:
        return BadFilesReport(
            len(cases), len(cases), {}, [], 0, len(good_names), time.perf_counter() - started,
            [], [f"the run crashed: {type(exc).__name__}: {exc}"], f"{type(exc).__name__}: {exc}",
        )  # fmt: skip
    seconds = time.perf_counter() - started

    def shown(name: str) -> str:
        return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")

    skipped = {Path(s.path).name: s.reason for s in report.skipped}
    indexed = [Path(p).name for p in report.added]
    problems = []
    for case in cases:
        name = shown(case.name)
        if name in skipped:
            if not skipped[name].strip():
                problems.append(f"{name}: skipped without a reason")
        elif name in indexed:
            if case.expect == "skip":
                problems.append(f"{name} ({case.kind}) was indexed; it should be refused")
        else:
            problems.append(f"{name} ({case.kind}) is neither indexed nor reported")
    for key in ("fifo", "dev_zero"):
        if special[key].resolve().name not in skipped:
            problems.append(f"{special[key].name} ({key}) was not reported")
    good_indexed = sum(1 for n in good_names if n in indexed)
    if good_indexed != len(good_names):
        problems.append(f"only {good_indexed} of {len(good_names)} good files were indexed")
    if "inner.txt" not in indexed:
        problems.append("the good file inside folder.txt/ was not indexed")
    slowest = sorted(((Path(k).name, v) for k, v in times.items()), key=lambda kv: -kv[1])[:5]
    return BadFilesReport(
        files=len(cases) + len(good_names) + 3, malformed=len(cases), skipped=skipped,
        indexed=indexed, good_indexed=good_indexed, good_total=len(good_names), seconds=seconds,
        slowest=slowest, problems=problems,
    )  # fmt: skip


__all__ = [
    "BadFilesReport",
    "BrokenIndexError",
    "CompactKillReport",
    "ConcurrencyReport",
    "CrashReport",
    "cli",
    "compact_kill_trials",
    "corpus_state",
    "crash_trials",
    "index_state",
    "minilm_env",
    "run_bad_files",
    "searches_during_ingests",
]
