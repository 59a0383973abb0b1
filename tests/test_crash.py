"""The index survives crashes: SIGKILL at random moments, and a full disk.

`test_sigkill_during_updates` drives the real `build_index` (FAISS + SQLite; only the model
is the fake encoder) in worker processes forked by `tests/hostile/driver.py serve`, and kills
each worker with SIGKILL after a random delay spread over the run's measured duration. The
runs cycle through add / change / delete. After every kill the index must open (checksums,
ntotal == chunk rows, model and dimension), answer a retrieval, and hold exactly the state
before or after that run - never a mix. Where each kill landed is read from the files it left
(temp folder, renamed but unpublished generation, manifest) and printed.

The disk-full tests make a write fail with ENOSPC (patched at each write of an update, and
for real on a 2 MB tmpfs when mounting one is allowed): a clear error, the previous index
intact and loadable, and no half generation left behind.
"""

from __future__ import annotations

import collections
import contextlib
import errno
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fakes import FAKE_MODEL, FakeEncoder
from helpers import ARTIFACTS, HOSTILE_DRIVER, SEED_SOURCES

from rag import indexing, publish
from rag.errors import RagError
from rag.indexing import MANIFEST, build_index, open_index, read_manifest
from rag.retrieve import retrieve
from rag.settings import Settings

KILLS = 105  # the issue asks for at least 100
SLOW = 0.004  # seconds of fake "model time" per encode call of a worker
OPERATIONS = ("add", "change", "delete")
KILLS_PER_OP = 5  # then the run is allowed to finish and the next operation starts
RESULTS = ARTIFACTS / "crash.json"


def index_state(settings: Settings) -> tuple[frozenset[tuple[str, str]], int]:
    """Open the index like the app does, answer a query, return its (doc_id, text hash) set."""
    idx = open_index(settings)  # checks checksums, ntotal == chunk rows, model, dimension
    try:
        assert idx.vectors.ntotal == idx.store.count("chunks")
        assert retrieve(idx, "Supreme Court ban", 3).passages
        rows = idx.store.con.execute("SELECT doc_id, clean_text FROM documents").fetchall()
        docs = frozenset((d, hashlib.sha256(t.encode()).hexdigest()[:16]) for d, t in rows)
        return docs, idx.vectors.ntotal
    finally:
        idx.close()


def phase_of(index_dir: Path, before_generation: str | None) -> str:
    """Where a killed run stopped, judged from what it left in the index folder."""
    manifest = read_manifest(index_dir)
    current = manifest.generation if manifest else None
    if current != before_generation:
        return "after the manifest swap (cleanup)"
    if (index_dir / f".{MANIFEST}.tmp").exists():
        return "writing the manifest"
    tmp = list(index_dir.glob(".gen-*.tmp"))
    if tmp:
        if (tmp[0] / "vectors.faiss").exists():
            return "temp generation saved, publishing"
        return "applying changes in the temp generation"
    numbers = sorted(p.name for p in index_dir.glob("gen-*"))
    if numbers and numbers[-1] != current and numbers[-1] > (current or ""):
        return "generation renamed, manifest not yet swapped"
    return "before the temp generation (planning)"


class Corpus:
    """The sources folder, changed one operation at a time (add / change / delete)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.paragraphs = [
            p
            for f in sorted(SEED_SOURCES.glob("*.txt"))
            for p in f.read_text(encoding="utf-8").split("\n\n")
            if len(p) > 200
        ]
        self.n = 0
        self.rng = random.Random(7)

    def article(self) -> str:
        self.n += 1
        body = self.rng.sample(self.paragraphs, 3)
        return f"Crash test report number {self.n}.\n\n" + "\n\n".join(body) + "\n"

    def apply(self, op: str) -> None:
        files = sorted(self.folder.glob("*.txt"))
        if op == "add":
            for _ in range(2):
                (self.folder / f"added_{self.n + 1:03d}.txt").write_text(self.article())
        elif op == "change":
            for path in self.rng.sample(files, 2):
                path.chmod(0o644)
                path.write_text(self.article())
        else:
            for path in self.rng.sample(files, 2):
                path.unlink()
                path.with_name(path.name + ".meta.yaml").unlink(missing_ok=True)


class Driver:
    """The fork server of tests/hostile/driver.py: one build per command, killable by pid."""

    def __init__(self) -> None:
        env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, str(HOSTILE_DRIVER), "serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )

    def run(self, sources: Path, index: Path, kill_after: float | None) -> dict:
        assert self.proc.stdin and self.proc.stdout
        command = {"sources": str(sources), "index": str(index), "slow": SLOW}
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()
        pid = json.loads(self.proc.stdout.readline())["pid"]
        if kill_after is not None:
            time.sleep(kill_after)
            with contextlib.suppress(ProcessLookupError):  # already finished and reaped
                os.kill(pid, signal.SIGKILL)
        return json.loads(self.proc.stdout.readline())

    def close(self) -> None:
        assert self.proc.stdin
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


@pytest.mark.slow
def test_sigkill_during_updates(tmp_path: Path, fake_encoder: FakeEncoder) -> None:
    sources, index = tmp_path / "sources", tmp_path / "index"
    shutil.copytree(SEED_SOURCES, sources)
    settings = Settings.load(env={}, sources=sources, index=index, model=FAKE_MODEL, progress=False)
    corpus = Corpus(sources)
    driver = Driver()
    rng = random.Random(1234)
    phases: collections.Counter[str] = collections.Counter()
    ops: collections.Counter[str] = collections.Counter()
    outcomes: collections.Counter[str] = collections.Counter()
    durations: list[float] = []
    kills = attempts = 0
    try:
        assert driver.run(sources, index, None)["status"] == "ok"
        state = index_state(settings)
        op_number = 0
        while kills < KILLS or min(ops[o] for o in OPERATIONS) < KILLS // 3 - 5:
            op = OPERATIONS[op_number % 3]
            op_number += 1
            corpus.apply(op)
            # The after-state, and how long the run takes: the same run on a copy.
            reference = tmp_path / "reference"
            shutil.rmtree(reference, ignore_errors=True)
            shutil.copytree(index, reference)
            done = driver.run(sources, reference, None)
            assert done["status"] == "ok", done
            durations.append(done["seconds"])
            after = index_state(settings.with_(index=reference))
            assert after != state
            for _ in range(KILLS_PER_OP):
                before_generation = read_manifest(index).generation  # type: ignore[union-attr]
                # Half the attempts anywhere in the run, half in its last 40 % (publishing).
                low, high = (0.0, 1.1) if attempts % 2 else (0.6, 1.0)
                delay = rng.uniform(low, high) * done["seconds"]
                result = driver.run(sources, index, delay)
                attempts += 1
                outcomes[result["status"]] += 1
                if result["status"] == "killed":  # runs that finished first do not count
                    kills += 1
                    ops[op] += 1
                phase = (
                    "finished before the kill"
                    if result["status"] == "ok"
                    else phase_of(index, before_generation)
                )
                assert result["status"] in ("ok", "killed"), result
                phases[phase] += 1
                now = index_state(settings)
                assert now in (state, after), f"attempt {attempts} ({op}, {phase}): a mixed index"
                if now == after:
                    break
            if index_state(settings) != after:  # let the run finish before the next one
                assert driver.run(sources, index, None)["status"] == "ok"
            state = index_state(settings)
            assert state == after
        # Leftovers of the last kill (temp or unpublished generations) go with the next run.
        corpus.apply("add")
        assert driver.run(sources, index, None)["status"] == "ok"
        index_state(settings)
    finally:
        driver.close()
    assert not list(index.glob(".gen-*.tmp"))
    assert len(list(index.glob("gen-*"))) <= 2
    durations.sort()
    summary = {
        "kills": kills,
        "attempts": attempts,
        "kills_per_operation": dict(ops),
        "attempts_per_phase": dict(phases.most_common()),
        "worker_outcomes": dict(outcomes),
        "run_seconds_median": round(durations[len(durations) // 2], 3),
        "operations": op_number,
    }
    print("\nSIGKILL test:", json.dumps(summary, indent=2))
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(summary, indent=2))
    assert kills >= 100 and all(ops[o] >= 30 for o in OPERATIONS)


# --- disk full ------------------------------------------------------------------------


def _enospc(*args: object, **kwargs: object) -> None:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def _fail_second_replace(monkeypatch: pytest.MonkeyPatch) -> None:
    """os.replace works for the generation folder, then fails for the manifest."""
    real = os.replace
    calls = []

    def replace(src: object, dst: object) -> None:
        calls.append(dst)
        if len(calls) > 1:
            _enospc()
        real(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(publish.os, "replace", replace)


WRITE_POINTS = {
    "copy of the SQLite file": lambda mp: mp.setattr(indexing.shutil, "copy2", _enospc),
    "SQLite write": lambda mp: mp.setattr(indexing.Store, "add_chunk", _enospc),
    "FAISS save": lambda mp: mp.setattr(indexing.FlatVectors, "save", _enospc),
    "fsync": lambda mp: mp.setattr(publish, "fsync", _enospc),
    "manifest write": lambda mp: mp.setattr(publish, "write_atomic", _enospc),
    "manifest rename": _fail_second_replace,
}


@pytest.mark.parametrize("where", list(WRITE_POINTS))
def test_disk_full_keeps_the_previous_index(
    fake_settings: Settings,
    fake_encoder: FakeEncoder,
    monkeypatch: pytest.MonkeyPatch,
    where: str,
) -> None:
    build_index(fake_settings)
    index = fake_settings.index
    before_manifest = (index / MANIFEST).read_bytes()
    before = index_state(fake_settings)
    (fake_settings.sources / "new.txt").write_text(
        "A new article about the harbour. The regatta raised money for the lifeboat.\n"
    )
    WRITE_POINTS[where](monkeypatch)
    with pytest.raises(RagError, match=r"No space left on device.*previous index is unchanged"):
        build_index(fake_settings)
    monkeypatch.undo()
    assert (index / MANIFEST).read_bytes() == before_manifest
    assert index_state(fake_settings) == before
    names = sorted(p.name for p in index.iterdir() if p.name != ".lock")
    assert names == [read_manifest(index).generation, MANIFEST]  # type: ignore[union-attr]
    assert build_index(fake_settings).added == 1  # and the next run works


@pytest.fixture
def tiny_tmpfs(tmp_path: Path):
    mount = tmp_path / "tmpfs"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_real_full_disk_keeps_the_previous_index(
    fake_settings: Settings, fake_encoder: FakeEncoder, tiny_tmpfs: Path
) -> None:
    settings = fake_settings.with_(index=tiny_tmpfs / "index")
    build_index(settings)
    before_manifest = (settings.index / MANIFEST).read_bytes()
    before = index_state(settings)
    used = sum(f.stat().st_size for f in settings.index.rglob("*") if f.is_file())
    filler = tiny_tmpfs / "filler"
    free = shutil.disk_usage(tiny_tmpfs).free
    filler.write_bytes(b"\0" * max(free - used // 2, 0))  # room for less than a generation
    (fake_settings.sources / "new.txt").write_text("A new article. It is short.\n")
    with pytest.raises(RagError, match="previous index is unchanged"):
        build_index(settings)
    assert (settings.index / MANIFEST).read_bytes() == before_manifest
    assert index_state(settings) == before
    assert not list(settings.index.glob(".gen-*"))
    assert len(list(settings.index.glob("gen-*"))) == 1
    filler.unlink()
    assert build_index(settings).added == 1


# --- the write protocol -----------------------------------------------------------------


def test_every_file_and_folder_is_fsynced_and_the_manifest_is_last(
    fake_settings: Settings, fake_encoder: FakeEncoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_index(fake_settings)
    (fake_settings.sources / "new.txt").write_text("A new article. It is short.\n")
    index = fake_settings.index.resolve()
    events: list[tuple[str, str]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def name_of(path: object) -> str:
        p = Path(os.fspath(path)).resolve()  # type: ignore[arg-type]
        return "INDEX" if p == index else p.relative_to(index).as_posix()

    def fsync(fd: int) -> None:
        events.append(("fsync", name_of(os.readlink(f"/proc/self/fd/{fd}"))))
        real_fsync(fd)

    def replace(src: object, dst: object) -> None:
        events.append(("rename", f"{name_of(src)} -> {name_of(dst)}"))
        real_replace(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(publish.os, "fsync", fsync)
    monkeypatch.setattr(publish.os, "replace", replace)
    build_index(fake_settings)
    monkeypatch.undo()
    assert events == [
        ("fsync", ".gen-000002.tmp/rag.sqlite"),
        ("fsync", ".gen-000002.tmp/vectors.faiss"),
        ("fsync", ".gen-000002.tmp"),
        ("rename", ".gen-000002.tmp -> gen-000002"),
        ("fsync", "INDEX"),
        ("fsync", ".manifest.json.tmp"),
        ("rename", ".manifest.json.tmp -> manifest.json"),
        ("fsync", "INDEX"),
    ]


def test_the_writer_uses_wal_with_full_sync(tmp_path: Path) -> None:
    from rag.store import Store

    store = Store(tmp_path / "db.sqlite", readonly=False)
    try:
        assert store.con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store.con.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    finally:
        store.close()
