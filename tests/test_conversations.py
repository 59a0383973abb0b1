"""Fast tests of rag.conversations: no turn is ever lost, and a full disk is said in words.

Two writers are the two browser tabs of issue-style probes: each holds the turns it loaded,
adds its own and saves, interleaved or at the same time (threads). The full disk is an
injected ENOSPC (at the write's fsync) and, where root may mount one, a real small tmpfs.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rag.conversations import ConversationStore, new_id
from rag.errors import SaveError


def turn(question: str) -> dict[str, Any]:
    return {"question": question, "answer": f"About {question}.", "turn_id": new_id()}


def questions(turns: list[dict] | None) -> list[str]:
    return [t["question"] for t in turns or []]


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob(".tmp-*"))


def enospc(*_: Any) -> None:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_two_tabs_asking_in_one_conversation_keep_both_turns(tmp_path: Path) -> None:
    store, conv = ConversationStore(tmp_path), new_id()
    store.save(conv, [turn("first")])
    tab_a, tab_b = store.load(conv) or [], store.load(conv) or []  # both reopened it
    shown_a = store.save(conv, [*tab_a, turn("asked in A")])
    shown_b = store.save(conv, [*tab_b, turn("asked in B")])
    assert questions(store.load(conv)) == ["first", "asked in A", "asked in B"]
    assert questions(shown_a) == ["first", "asked in A"]
    assert shown_b == store.load(conv)  # the tab that saved last shows every turn
    again = store.save(conv, [*shown_a, turn("A again")])  # A's next answer brings B's in
    assert questions(again) == ["first", "asked in A", "asked in B", "A again"]
    assert store.save(conv, shown_b) == again  # saving what is saved changes nothing
    assert store.list()[0]["questions"] == 4


def test_turns_saved_without_an_id_are_not_doubled(tmp_path: Path) -> None:
    store, conv = ConversationStore(tmp_path), new_id()
    old = [{"question": "q1", "answer": "a1"}, {"question": "q1", "answer": "a1 again"}]
    (tmp_path / f"{conv}.json").write_text(json.dumps({"id": conv, "turns": old}))
    tab_a, tab_b = store.load(conv) or [], store.load(conv) or []
    store.save(conv, [*tab_a, turn("A")])
    merged = store.save(conv, [*tab_b, turn("B")])
    assert [t["answer"] for t in merged][:2] == ["a1", "a1 again"]
    assert questions(merged) == ["q1", "q1", "A", "B"]


def test_concurrent_saves_lose_no_turn(tmp_path: Path) -> None:
    store, conv = ConversationStore(tmp_path), new_id()
    store.save(conv, [turn("start")])
    errors: list[BaseException] = []

    def tab(name: str) -> None:
        try:
            mine = ConversationStore(tmp_path).load(conv) or []
            for i in range(15):
                mine = ConversationStore(tmp_path).save(conv, [*mine, turn(f"{name}-{i}")])
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=tab, args=(f"t{n}",)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    saved = questions(store.load(conv))
    assert len(saved) == 1 + 6 * 15 and len(set(saved)) == len(saved)
    for n in range(6):  # each tab's turns in the order it asked them
        assert [q for q in saved if q.startswith(f"t{n}-")] == [f"t{n}-{i}" for i in range(15)]
    assert not leftovers(tmp_path)


def test_a_full_disk_is_said_in_words_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, conv = ConversationStore(tmp_path), new_id()
    store.save(conv, [turn("kept")])
    before = (tmp_path / f"{conv}.json").read_bytes()
    monkeypatch.setattr(os, "fsync", enospc)
    with pytest.raises(SaveError) as caught:
        store.save(conv, [*(store.load(conv) or []), turn("lost?")])
    assert str(caught.value) == (
        f"The conversation could not be saved: no space left on device ({tmp_path})."
    )
    assert caught.value.reason == "no space left on device"
    with pytest.raises(SaveError, match="The settings could not be saved: no space left"):
        store.save_preferences(k=3)
    assert (tmp_path / f"{conv}.json").read_bytes() == before  # the saved file is unchanged
    assert not leftovers(tmp_path)


@pytest.fixture
def small_tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A 64 KB tmpfs (root may mount one; elsewhere the test is skipped)."""
    mount = tmp_path / "tmpfs"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(folder: Path) -> None:
    """Fill the file system of `folder` to the last byte."""
    with (folder / "filler").open("wb", buffering=0) as f:
        try:
            while True:
                f.write(b"x" * 4096)
        except OSError as e:
            assert e.errno == errno.ENOSPC


def test_a_real_full_disk_is_said_in_words_and_leaves_nothing(small_tmpfs: Path) -> None:
    store, conv = ConversationStore(small_tmpfs / "conversations"), new_id()
    store.save(conv, [turn("kept")])
    fill(small_tmpfs)
    with pytest.raises(SaveError, match="could not be saved: no space left on device"):
        store.save(conv, [*(store.load(conv) or []), {**turn("big"), "answer": "x" * 8192}])
    assert questions(store.load(conv)) == ["kept"]
    assert not leftovers(store.folder)
    (small_tmpfs / "filler").unlink()
    assert questions(store.save(conv, [turn("after")])) == ["kept", "after"]
