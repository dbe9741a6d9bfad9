"""Hardening: kill -9 during ingest, concurrent readers and writers, malformed files, hostile
queries against the CLI and the web app.

The drivers live in ``benchmarks/hardening.py`` and ``benchmarks/malformed.py``, so that the
benchmark (``benchmarks/run.py``) can run the same checks many more times; here each runs a few
times, with the bundled MiniLM, to stay fast enough for CI.
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import askculture
from askculture.errors import ConfigError, DocumentError, IndexBusyError
from askculture.settings import SAMPLE_CORPUS_DIR, Settings
from askculture.store import IndexReader, IndexWriter

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
hardening = importlib.import_module("hardening")
malformed = importlib.import_module("malformed")
reading = importlib.import_module("askculture.reading")

GITIS_EN = "2025-10-11-kz-russia-culture-subcommission.md"


@pytest.fixture
def fast(minilm: Settings) -> Settings:
    """MiniLM settings with a short per-file time limit."""
    settings = minilm.model_copy(deep=True)
    settings.index.file_timeout_s = 3.0
    return settings


# -- bad files --------------------------------------------------------------------------------


@pytest.mark.slow
def test_malformed_files_are_reported_and_good_files_indexed(
    tmp_path: Path, fast: Settings
) -> None:
    report = hardening.run_bad_files(tmp_path, fast, big_mb=20)
    assert report.error is None
    assert report.malformed >= 100
    assert report.problems == []
    assert report.good_indexed == report.good_total == 3
    assert "took longer than 3 s" in report.skipped["big-words.md"]
    assert report.skipped["zero"] == "not a regular file"  # /dev/zero, named directly
    assert report.skipped["fifo.txt"] == "not a regular file"
    assert report.skipped["big-sparse.md"].startswith("file too large")
    assert "not valid UTF-8" in report.skipped["bad-name-\ufffd\ufffd.txt"]
    hits = askculture.retrieve("roadmap GITIS", 3, tmp_path / "index", settings=fast)
    assert hits  # the index of the good files works


def test_malformed_set_is_large_and_varied(tmp_path: Path) -> None:
    cases = malformed.write_malformed(tmp_path, big_mb=1)
    assert len(cases) >= 100
    assert len({c.name for c in cases}) == len(cases)
    assert {Path(c.name).suffix for c in cases} >= {".pdf", ".docx", ".txt", ".md", ".html"}
    assert all((tmp_path / c.name).exists() for c in cases if "\ufffd" not in c.name)


def test_a_file_over_the_time_limit_is_skipped_and_the_reader_restarts(
    tmp_path: Path, minilm: Settings
) -> None:
    slow = tmp_path / "slow.txt"
    slow.write_text("culture ministry " * 400_000, encoding="utf-8")  # 6.8 MB: minutes to split
    good = tmp_path / "good.md"
    shutil.copy(SAMPLE_CORPUS_DIR / GITIS_EN, good)
    settings = minilm.model_copy(deep=True)
    settings.index.file_timeout_s = 1.0
    started = time.perf_counter()
    report = askculture.ingest([slow, good], tmp_path / "index", settings=settings)
    assert time.perf_counter() - started < 60
    assert [(Path(s.path).name, s.reason) for s in report.skipped] == [
        ("slow.txt", "took longer than 1 s to read and split (limit: index.file_timeout_s)")
    ]
    assert [Path(p).name for p in report.added] == ["good.md"]


def test_a_killed_reader_is_replaced(tmp_path: Path, minilm: Settings) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(SAMPLE_CORPUS_DIR / GITIS_EN, corpus)
    askculture.ingest([corpus], tmp_path / "index", settings=minilm)
    worker = reading._idle_worker
    assert worker is not None and worker.alive
    worker.proc.kill()  # the idle reader dies between ingests
    worker.proc.wait()
    shutil.copy(SAMPLE_CORPUS_DIR / "2023-01-16-kz-state-grants-culture.md", corpus)
    report = askculture.ingest([corpus], tmp_path / "index", settings=minilm)
    assert report.ok and len(report.added) == 1


def test_special_paths_named_directly(tmp_path: Path, minilm: Settings) -> None:
    special = malformed.write_special_paths(tmp_path / "special")
    big = tmp_path / "big.md"
    with open(big, "wb") as fh:
        fh.truncate(3 * 2**30)  # sparse 3 GB: must be refused without being read
    started = time.perf_counter()
    report = askculture.ingest(
        [special["fifo"], special["dev_zero"], big], tmp_path / "index", settings=minilm
    )
    assert time.perf_counter() - started < 60
    reasons = {Path(s.path).name: s.reason for s in report.skipped}
    assert reasons == {
        "fifo.txt": "not a regular file",
        "zero": "not a regular file",
        "big.md": "file too large (3072.0 MB > 50.0 MB)",
    }
    with pytest.raises(ConfigError, match="no such file"):
        askculture.ingest([special["dangling"]], tmp_path / "index", settings=minilm)


def test_cli_reports_a_non_utf8_file_name(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(SAMPLE_CORPUS_DIR / GITIS_EN, corpus)
    with open(os.fsencode(corpus) + b"/\xff\xfename.txt", "wb") as fh:
        fh.write(b"The Ministry of Culture announced a competition for young directors.")
    run = subprocess.run(
        [*hardening.cli("ingest", str(corpus), "--index", str(tmp_path / "index"), "--json")],
        env=hardening.minilm_env(), capture_output=True, timeout=300,
    )  # fmt: skip
    assert run.returncode == 3, run.stderr
    assert b"Traceback" not in run.stderr
    report = json.loads(run.stdout)
    assert report["skipped"][0]["path"].endswith("/\ufffd\ufffdname.txt")
    assert "not valid UTF-8" in report["skipped"][0]["reason"]


def test_loader_guards(tmp_path: Path) -> None:
    from askculture.documents import load_file

    cases = {
        "deep.jsonl": "[" * 100_000 + "]" * 100_000 + "\n",
        "bad-date.md": "---\ntitle: x\ndate: 2025-13-45\n---\n\nBody.\n",
        "deep-yaml.md": "---\nx: " + "[" * 20_000 + "]" * 20_000 + "\n---\n\nBody.\n",
        "nospace.txt": "x" * 50_000,
    }
    for name, text in cases.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        with pytest.raises(DocumentError):
            load_file(tmp_path / name)
    surrogate = tmp_path / "surrogate.jsonl"
    surrogate.write_text('{"text": "bad \\ud800 here", "title": "t\\udfff"}\n', encoding="utf-8")
    (doc,) = load_file(surrogate)
    assert doc.text == "bad \ufffd here" and doc.title == "t\ufffd"


# -- crash and concurrency --------------------------------------------------------------------


@pytest.mark.slow
def test_kill_9_at_random_moments_leaves_the_old_or_the_new_index(tmp_path: Path) -> None:
    report = hardening.crash_trials(tmp_path, trials=3, seed=int(time.time()) % 1000)
    assert len(report.trials) == 3
    assert report.failures == [], report.trials


def test_readers_always_see_a_whole_index_while_ingests_commit(
    tmp_path: Path, minilm: Settings
) -> None:
    report = hardening.searches_during_ingests(tmp_path, minilm, rounds=3, threads=4)
    assert report.errors == []
    assert report.checks > 0 and report.searches > 0
    assert report.generations_seen >= 2


def _held_writer(index: Path) -> IndexWriter:
    reader = IndexReader.open(index)
    manifest = reader.manifest
    reader.close()
    return IndexWriter(index, manifest)


def test_a_second_ingest_fails_clearly_or_waits(tmp_path: Path, minilm: Settings) -> None:
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    corpus.mkdir()
    shutil.copy(SAMPLE_CORPUS_DIR / GITIS_EN, corpus)
    askculture.ingest([corpus], index, settings=minilm)
    shutil.copy(SAMPLE_CORPUS_DIR / "2023-01-16-kz-state-grants-culture.md", corpus)
    cmd = hardening.cli("ingest", str(corpus), "--index", str(index))
    with _held_writer(index):
        with pytest.raises(IndexBusyError, match="another ingest"):
            askculture.ingest([corpus], index, settings=minilm)
        busy = subprocess.run(cmd, env=hardening.minilm_env(), capture_output=True, text=True)
        waiting = subprocess.Popen(
            cmd, env=hardening.minilm_env(ASKCULTURE_INDEX__LOCK_TIMEOUT_S="120"),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        time.sleep(2.0)
        assert waiting.poll() is None  # still waiting for the lock
    _, err = waiting.communicate(timeout=300)
    assert busy.returncode == 1
    assert busy.stderr.startswith("askculture: error: another ingest is writing")
    assert len(busy.stderr.strip().splitlines()) == 1
    assert waiting.returncode == 0, err
    assert hardening.index_state(index) == hardening.corpus_state(corpus)


def test_two_ingests_at_once_never_corrupt(tmp_path: Path) -> None:
    index = tmp_path / "index"
    corpora = []
    for name, files in (("a", hardening.SAMPLE_FILES[:3]), ("b", hardening.SAMPLE_FILES[3:6])):
        folder = tmp_path / name
        folder.mkdir()
        for f in files:
            shutil.copy(f, folder)
        corpora.append(folder)
    procs = [
        subprocess.Popen(
            hardening.cli("ingest", str(c), "--index", str(index)),
            env=hardening.minilm_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for c in corpora
    ]
    results = [(p.wait(timeout=300), p.stderr.read() if p.stderr else "") for p in procs]
    for code, err in results:
        assert code in (0, 1), err
        assert "Traceback" not in err
        if code == 1:
            assert "another ingest is writing" in err
    assert any(code == 0 for code, _ in results)
    a, b = (hardening.corpus_state(c) for c in corpora)
    assert hardening.index_state(index) in (a, b, {**a, **b})


# -- hostile queries --------------------------------------------------------------------------

HOSTILE = [
    "x" * 100_000,  # huge
    "word " * 1_999,  # 9,995 characters: over the limit
    "\x00\x01\x02\x7f binary \x1b[31m red",
    "\ufffe\uffff\U0010ffff \ud7ff",
    "<script>alert('x')</script><img src=x onerror=alert(1)>",
    "'; DROP TABLE chunks; -- \" OR 1=1 /* */",
    "../../../../etc/passwd",
    "/dev/zero",
    "file:///etc/shadow",
    "%s%s%n {0} ${HOME} $(rm -rf /) `id`",
    "?!…—«»",
    "   \t\n  ",
    "🙂🙂🙂 GITIS 🙂",
    "\u202egnidaer-lla-no-tfel\u202c GITIS",
    "a" * 1_999,
    "GITIS " * 300,
    "ＧＩＴＩＳ　роадмап　жол картасы",
]


@pytest.fixture(scope="module")
def hostile_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    settings = Settings()
    settings.embedding.model = "minilm"
    index = tmp_path_factory.mktemp("hostile") / "index"
    corpus = index.parent / "corpus"
    corpus.mkdir()
    for f in hardening.SAMPLE_FILES[:5]:
        shutil.copy(f, corpus)
    shutil.copy(SAMPLE_CORPUS_DIR / GITIS_EN, corpus)
    askculture.ingest([corpus], index, settings=settings)
    yield index


def _check_cli_result(code: int, out: str, err: str, what: str) -> None:
    assert "Traceback" not in err, (what, err)
    assert code in (0, 1), (what, code, err)
    if code == 1:
        assert err.startswith("askculture: error:"), (what, err)
        assert len(err.strip().splitlines()) == 1, (what, err)
        assert out == ""
    else:
        assert out.strip(), what


def test_hostile_queries_against_the_cli(
    hostile_index: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from askculture.cli import main

    monkeypatch.setenv("ASKCULTURE_EMBEDDING__MODEL", "minilm")
    state = hardening.index_state(hostile_index)
    runner = CliRunner()
    commands = [c for c in ("search", "ask") if c in main.commands]
    for command in commands:
        for query in HOSTILE:
            for extra in ([], ["--json"]):
                result = runner.invoke(
                    main, [command, query, "--index", str(hostile_index), *extra]
                )
                assert result.exception is None or isinstance(result.exception, SystemExit), (
                    query[:40], result.exception,
                )  # fmt: skip
                _check_cli_result(result.exit_code, result.stdout, result.stderr, query[:40])
                if extra and result.exit_code == 0:
                    json.loads(result.stdout)
    assert hardening.index_state(hostile_index) == state  # nothing was changed by a query


def test_hostile_bytes_in_argv(hostile_index: Path) -> None:
    for query in (b"\xff\xfe\xfd invalid utf-8 \xc3 GITIS \xe2\x80", b"--index=/"):
        run = subprocess.run(
            [os.fsencode(sys.executable), b"-m", b"askculture.cli", b"search", b"--index",
             os.fsencode(hostile_index), b"--", query],
            env=hardening.minilm_env(), capture_output=True, timeout=300,
        )  # fmt: skip
        _check_cli_result(run.returncode, run.stdout.decode(), run.stderr.decode(), repr(query))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_hostile_questions_against_the_web_app(hostile_index: Path, tmp_path: Path) -> None:
    pytest.importorskip("gradio_client")
    from gradio_client import Client

    from askculture.web import serve

    settings = Settings()
    settings.embedding.model = "minilm"
    settings.app.data_dir = tmp_path / "data"
    demo, engine, url = serve(
        hostile_index, "127.0.0.1", _free_port(), settings, block=False, quiet=True
    )
    try:
        assert engine.wait(timeout=120)
        client = Client(url, verbose=False)
        outcomes: dict[str, Any] = {}
        for q in [*HOSTILE, "\x00" * 50, "<" * 5000]:
            try:
                outcomes[q[:30]] = client.predict(q, api_name="/ask")
            except Exception as exc:  # gr.Error reaches the client as an exception
                outcomes[q[:30]] = exc
                assert "Traceback" not in str(exc)
        answered = [v for v in outcomes.values() if isinstance(v, dict)]
        assert all("text" in v for v in answered)
        errors: list[BaseException] = []

        def normal() -> None:
            try:
                result = Client(url, verbose=False).predict(
                    "Who signed the roadmap with GITIS?", api_name="/ask"
                )
                assert result["citations"]
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=normal) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert errors == []  # the server keeps serving
    finally:
        demo.close()


def test_the_reader_process_dies_with_its_parent(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(SAMPLE_CORPUS_DIR / GITIS_EN, corpus)
    script = (
        "import sys, time, askculture\n"
        f"askculture.ingest([{str(corpus)!r}], {str(tmp_path / 'index')!r})\n"
        "print(sys.modules['askculture.reading']._idle_worker.proc.pid, flush=True)\n"
        "time.sleep(600)\n"
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", script], env=hardening.minilm_env(), stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    assert parent.stdout is not None
    worker_pid = int(parent.stdout.readline())
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:  # gone, or a zombie waiting for its new parent to reap it
            stat = Path(f"/proc/{worker_pid}/stat").read_text()
        except FileNotFoundError:
            break
        if stat.rsplit(")", 1)[1].split()[0] in ("Z", "X"):
            break
        time.sleep(0.2)
    else:
        os.kill(worker_pid, signal.SIGKILL)
        pytest.fail("the reading worker outlived its parent by 10 s")
