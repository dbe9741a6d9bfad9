"""Load test of the web chat: simulated users asking through ``gradio_client`` for a fixed time.

:func:`run_load_test` starts ``askculture serve`` on a free 127.0.0.1 port over an existing
index (a real server process), waits until its status says ready, then runs ``users`` threads,
each with its own ``gradio_client.Client``, asking dev-set questions through the ``/ask`` API in
a loop until ``duration`` seconds have passed (every request has its own timeout, so the loop is
bounded). Optional hostile users send malformed questions at the same time; their refusals are
counted apart. The server is stopped (only the process started here) before returning.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

HOSTILE_QUESTIONS = [
    "x" * 5000,
    "<script>alert(1)</script>",
    "'; DROP TABLE chunks; --",
    "../../../../etc/passwd",
    "\x00\x01\x02",
    "?!…",
    "",
]


@dataclass
class LoadResult:
    """What the simulated users saw."""

    users: int
    duration_s: float
    served: int = 0
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    hostile_sent: int = 0
    hostile_refused: int = 0
    hostile_answered: int = 0
    server_peak_rss_mb: float | None = None
    skipped: str | None = None

    def summary(self) -> dict[str, Any]:
        """A JSON-ready summary (percentiles instead of every latency)."""
        lat = np.asarray(self.latencies_ms) if self.latencies_ms else np.zeros(1)
        return {
            "users": self.users,
            "duration_s": round(self.duration_s, 1),
            "served": self.served,
            "errors": self.errors,
            "error_samples": self.error_samples[:5],
            "throughput_rps": round(self.served / self.duration_s, 2) if self.duration_s else 0,
            "p50_ms": round(float(np.percentile(lat, 50)), 1),
            "p95_ms": round(float(np.percentile(lat, 95)), 1),
            "max_ms": round(float(lat.max()), 1),
            "hostile_sent": self.hostile_sent,
            "hostile_refused": self.hostile_refused,
            "hostile_answered": self.hostile_answered,
            "server_peak_rss_mb": self.server_peak_rss_mb,
            "skipped": self.skipped,
        }


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _peak_rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def _wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float) -> str | None:
    """None when the server answers ``/status`` with phase ready; else why not."""
    from gradio_client import Client

    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return f"the server exited with status {proc.returncode}"
        try:
            status = Client(url, verbose=False).predict(api_name="/status")
            if isinstance(status, dict) and status.get("phase") == "ready":
                return None
            last = f"status {status!r}"[:200]
        except Exception as exc:  # not listening yet
            last = f"{type(exc).__name__}: {exc}"[:200]
        time.sleep(1.0)
    return f"not ready after {timeout:.0f} s ({last})"


def run_load_test(
    index: Path,
    work: Path,
    questions: list[str],
    *,
    users: int = 20,
    duration: float = 60.0,
    hostile_users: int = 0,
    request_timeout: float = 120.0,
    ready_timeout: float = 300.0,
    seed: int = 0,
) -> LoadResult:
    """Run the load test; see the module docstring. Skips (with a reason) if no server starts."""
    result = LoadResult(users=users, duration_s=0.0)
    try:
        from gradio_client import Client
    except ImportError:
        result.skipped = "gradio_client is not installed"
        return result
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    env = {**os.environ, "ASKCULTURE_APP__DATA_DIR": str(work / "data")}
    env.pop("ASKCULTURE_APP__AUTH_USER", None)
    env.pop("ASKCULTURE_APP__AUTH_PASSWORD", None)
    log = open(work / "server.log", "wb")  # noqa: SIM115 - closed in finally
    cmd = [sys.executable, "-m", "askculture.cli", "serve", "--index", str(index)]
    proc = subprocess.Popen(
        [*cmd, "--host", "127.0.0.1", "--port", str(port)],
        stdout=log, stderr=subprocess.STDOUT, env=env,
    )  # fmt: skip
    try:
        why = _wait_ready(url, proc, ready_timeout)
        if why is not None:
            tail = (work / "server.log").read_text(errors="replace")[-600:]
            result.skipped = f"the web app did not start: {why}; log: {tail}"
            return result
        lock = threading.Lock()
        end = time.monotonic() + duration

        def user(n: int, hostile: bool) -> None:
            rnd = random.Random(seed * 1000 + n)
            try:
                client = Client(url, verbose=False)
            except Exception as exc:
                with lock:
                    result.errors += 1
                    result.error_samples.append(f"connect: {type(exc).__name__}: {exc}"[:200])
                return
            while time.monotonic() < end:
                q = rnd.choice(HOSTILE_QUESTIONS if hostile else questions)
                t0 = time.perf_counter()
                try:
                    job = client.submit(q, api_name="/ask")
                    answer = job.result(timeout=request_timeout)
                    ok, err = isinstance(answer, dict) and "text" in answer, ""
                except Exception as exc:
                    ok, err = False, f"{type(exc).__name__}: {exc}"[:200]
                ms = (time.perf_counter() - t0) * 1000
                with lock:
                    if hostile:
                        result.hostile_sent += 1
                        if ok:
                            result.hostile_answered += 1
                        else:
                            result.hostile_refused += 1
                    elif ok:
                        result.served += 1
                        result.latencies_ms.append(ms)
                    else:
                        result.errors += 1
                        result.error_samples.append(err or "no answer")

        threads = [
            threading.Thread(target=user, args=(i, i >= users), daemon=True)
            for i in range(users + hostile_users)
        ]
        started = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=duration + request_timeout + 30)
        result.duration_s = time.monotonic() - started
        if proc.poll() is not None:
            result.error_samples.append(f"the server died (status {proc.returncode})")
        result.server_peak_rss_mb = _peak_rss_mb(proc.pid)
        return result
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()


__all__ = ["HOSTILE_QUESTIONS", "LoadResult", "free_port", "run_load_test"]
