"""rag.api.add_sources: what an upload may take, a full disk, a failed or killed index run.

Over the seed articles with the fake encoder. The web app passes Gradio's upload folder as
`inside`; here a tmp folder plays that part. The full disk is injected into `os.write`
(ENOSPC halfway through the copy) and, where root may mount one, met for real on a small
tmpfs; the kill is a real SIGKILL of a child process in the middle of its index run.
"""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_crash import tiny_tmpfs  # noqa: F401 (a fixture)

from rag import api, uploads
from rag.errors import RagError
from rag.indexing import build_index
from rag.settings import Settings

ARTICLE = "The Nile bridge opened in May 2020 after long delays. It carries four lanes.\n"


@pytest.fixture
def received(tmp_path: Path) -> Path:
    """The upload folder: only files in it may be added."""
    folder = tmp_path / "received"
    (folder / "a1b2").mkdir(parents=True)
    return folder


def sources_of(settings: Settings) -> set[str]:
    return {d["source"] for d in api.documents(settings)}


def test_only_regular_files_in_the_upload_folder_are_taken(
    fake_settings: Settings, received: Path, tmp_path: Path
) -> None:
    build_index(fake_settings)
    secret = tmp_path / "secret.txt"
    secret.write_text("The launch code is 0000. Nobody uploaded this file.\n")
    link = received / "a1b2" / "innocent.txt"
    link.symlink_to(secret)
    escape = received / "a1b2" / "../../secret.txt"  # spelled inside, resolves outside
    good = received / "a1b2" / "nile.txt"
    good.write_text(ARTICLE)
    big = received / "a1b2" / "big.txt"
    big.write_text("word " * (uploads.MAX_UPLOAD_BYTES // 5 + 1))
    report = api.add_sources(fake_settings, [secret, link, escape, good, big], inside=received)
    reasons = dict(report.skipped)
    assert reasons["secret.txt"] == uploads.NOT_UPLOADED
    assert reasons["innocent.txt"] == uploads.SYMLINK
    assert reasons["big.txt"] == "file too large (20 MB > 20 MB upload limit)"
    assert [p.name for p in fake_settings.sources.glob("*") if "nile" in p.name] == ["nile.txt"]
    assert not {"secret.txt", "innocent.txt", "big.txt"} & set(os.listdir(fake_settings.sources))
    assert "nile.txt" in sources_of(fake_settings)
    # The library's own callers (no upload folder) keep the size limit too.
    report = api.add_sources(fake_settings, [big])
    assert dict(report.skipped)["big.txt"].startswith("file too large")
    assert not (fake_settings.sources / "big.txt").exists()


def _enospc_halfway(monkeypatch: pytest.MonkeyPatch) -> None:
    real_write = os.write

    def write(fd: int, data: bytes) -> int:
        if len(data) > 1000:  # the article's copy: half of it lands, then the disk is full
            real_write(fd, bytes(data[: len(data) // 2]))
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", write)


def test_a_full_disk_during_the_copy_adds_nothing(
    fake_settings: Settings, received: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_index(fake_settings)
    before = sorted(os.listdir(fake_settings.sources))
    first, second = received / "a1b2" / "first.txt", received / "a1b2" / "kilo.txt"
    first.write_text("A short one. It is copied first.\n")
    second.write_text(ARTICLE * 40)
    _enospc_halfway(monkeypatch)
    with pytest.raises(RagError) as caught:
        api.add_sources(fake_settings, [first, second], inside=received)
    assert str(caught.value) == (
        f"No space left on device while copying kilo.txt into the sources folder "
        f"{fake_settings.sources}; nothing was added."
    )
    assert sorted(os.listdir(fake_settings.sources)) == before  # no half copy, no temp file
    monkeypatch.undo()
    assert api.index(fake_settings).added == 0  # and nothing turns up later


def test_a_real_full_disk_during_the_copy_adds_nothing(
    fake_settings: Settings,
    received: Path,
    tiny_tmpfs: Path,  # noqa: F811
) -> None:
    import shutil

    sources = tiny_tmpfs / "sources"
    shutil.copytree(fake_settings.sources, sources)
    settings = fake_settings.with_(sources=sources)
    build_index(settings)
    before = sorted(os.listdir(sources))
    filler = tiny_tmpfs / "filler"
    filler.write_bytes(b"\0" * (shutil.disk_usage(tiny_tmpfs).free - 64 * 1024))
    kilo = received / "a1b2" / "crash_kilo.txt"
    kilo.write_text(ARTICLE * 2000)  # 160 KB: more than is left
    with pytest.raises(RagError, match=r"^No space left on device while copying crash_kilo"):
        api.add_sources(settings, [kilo], inside=received)
    assert sorted(os.listdir(sources)) == before
    filler.unlink()
    report = api.add_sources(settings, [kilo], inside=received)
    assert (sources / "crash_kilo.txt").read_bytes() == kilo.read_bytes()
    assert not report.skipped and "crash_kilo.txt" in sources_of(settings)


def test_a_failed_index_run_keeps_no_copy(
    fake_settings: Settings, received: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rag import indexing

    build_index(fake_settings)
    nile = received / "a1b2" / "nile.txt"
    nile.write_text(ARTICLE)

    def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(indexing, "publish", disk_full)
    with pytest.raises(RagError, match=r"Not kept in the sources folder: nile.txt\.$"):
        api.add_sources(fake_settings, [nile], inside=received)
    assert not (fake_settings.sources / "nile.txt").exists()
    assert not (fake_settings.sources / uploads.PENDING).exists()
    assert nile.exists()  # the uploaded file itself is untouched


KILLED_UPLOAD = """
import os, signal, sys
from pathlib import Path
sys.path.insert(0, {tests!r})
from fakes import FAKE_MODEL, register_fake
from rag import api
from rag.settings import Settings

register_fake(FAKE_MODEL)
settings = Settings.load(
    env={{}}, sources=Path({sources!r}), index=Path({index!r}), model=FAKE_MODEL, progress=False
)

def die(done, total, message):
    if message == "embedding":  # the copy is in place, the index run half done
        os.kill(os.getpid(), signal.SIGKILL)

api.add_sources(settings, [Path({upload!r})], inside=Path({received!r}), progress=die)
"""


def test_an_upload_killed_while_indexing_is_undone_and_reported(
    fake_settings: Settings, received: Path
) -> None:
    build_index(fake_settings)
    nile = received / "a1b2" / "nile.txt"
    nile.write_text(ARTICLE)
    code = KILLED_UPLOAD.format(
        tests=str(Path(__file__).parent),
        sources=str(fake_settings.sources),
        index=str(fake_settings.index),
        upload=str(nile),
        received=str(received),
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=120)
    assert done.returncode == -9, done.stderr.decode()
    assert (fake_settings.sources / "nile.txt").exists()  # the kill left the copy behind
    report = api.index(fake_settings)
    reasons = dict(report.skipped)
    assert reasons["nile.txt"].startswith("its upload was interrupted before it was indexed")
    assert "nile.txt" not in sources_of(fake_settings)
    assert not (fake_settings.sources / "nile.txt").exists()
    trashed = list(api.trash_folder(fake_settings).rglob("nile.txt"))
    assert [p.read_text() for p in trashed] == [ARTICLE]  # nothing lost: it is in the trash
    assert str(trashed[0].parent) in reasons["nile.txt"]
    assert api.recover_uploads(fake_settings) == []  # reported once
    assert "nile.txt" not in str(api.index(fake_settings))


def test_an_upload_killed_after_its_index_run_is_kept(
    fake_settings: Settings, received: Path
) -> None:
    build_index(fake_settings)
    nile = received / "a1b2" / "nile.txt"
    nile.write_text(ARTICLE)
    api.add_sources(fake_settings, [nile], inside=received)
    # As if killed between publishing the index and forgetting the upload:
    upload = uploads._read(nile, received)
    upload.target = fake_settings.sources / "nile.txt"
    uploads._record(fake_settings.sources, [upload])
    assert api.recover_uploads(fake_settings) == []
    assert (fake_settings.sources / "nile.txt").exists()
    assert "nile.txt" in sources_of(fake_settings)
