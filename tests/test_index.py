"""Tests for rag.indexing with the fake encoder and the real FAISS + SQLite code.

Covers the first build, incremental updates (add / change / delete / touch), what gets
re-embedded, the manifest, refusing mismatched or corrupt indexes, skipping bad files and
surviving an interrupted build.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from fakes import FAKE_MODEL, FakeEncoder, register_fake

from rag import IndexReport, Settings
from rag.errors import (
    IndexCorruptError,
    IndexMismatchError,
    IndexMissingError,
    RagError,
    SourceError,
)
from rag.indexing import (
    DB_FILE,
    FORMAT_VERSION,
    MANIFEST,
    VECTORS_FILE,
    Manifest,
    build_index,
    open_index,
    read_manifest,
)

NEW_ARTICLE = (
    "Quokkas Visit the Capital\n\n"
    "A delegation of quokkas arrived in Canberra on Monday. The marsupials toured the "
    "parliament building and posed for photographs.\n\n"
    "Officials said the visit strengthened ties between the islands and the mainland."
)
SEED_A = "000_bc0cf055e4f1d4cb.txt"
SEED_B = "001_f40b61988599ebfd.txt"


def manifest(settings: Settings) -> Manifest:
    data = read_manifest(settings.index)
    assert data is not None
    return data


def generations(settings: Settings) -> list[str]:
    return sorted(p.name for p in settings.index.iterdir() if p.name.startswith("gen-"))


def check_index(settings: Settings, encoder: FakeEncoder) -> dict:
    """Open the index and check FAISS against SQLite; return its counts."""
    import faiss

    idx = open_index(settings)
    try:
        store, vectors = idx.store, idx.vectors
        chunk_ids = store.chunk_ids()
        assert vectors.ntotal == len(chunk_ids) == store.count("chunks")
        assert sorted(faiss.vector_to_array(vectors.index.id_map).tolist()) == chunk_ids
        rows = store.con.execute(
            "SELECT c.id, c.text, c.start, c.end, d.clean_text FROM chunks c "
            "JOIN documents d ON d.id = c.doc"
        ).fetchall()
        for chunk_id, text, start, end, clean_text in rows:
            assert clean_text[start:end] == text
            # The vector under each id is the vector of that chunk's text (ids not mixed up).
            stored = vectors.index.reconstruct(chunk_id)
            assert np.allclose(stored, encoder.vector(text), atol=1e-6)
        missing = store.con.execute("SELECT COUNT(*) FROM sentences WHERE vector IS NULL")
        assert missing.fetchone()[0] == 0
        counts = {t: store.count(t) for t in ("files", "documents", "chunks", "sentences")}
        assert counts == manifest(settings).counts
        doc_ids = {d["doc_id"] for d in store.list_documents()}
        return {**counts, "doc_ids": doc_ids}
    finally:
        idx.close()


def sources_of(encoded: list[str], text: str) -> bool:
    """True when every encoded text is a verbatim part of `text`."""
    return all(t in text for t in encoded)


# --- the first build ------------------------------------------------------------------------


def test_build_from_seeds(fake_settings: Settings, fake_encoder: FakeEncoder) -> None:
    report = build_index(fake_settings)
    assert isinstance(report, IndexReport)
    assert (report.added, report.updated, report.removed, report.unchanged) == (5, 0, 0, 0)
    assert report.skipped == []
    counts = check_index(fake_settings, fake_encoder)
    assert counts["documents"] == counts["files"] == 5
    assert counts["chunks"] == report.chunks > 5
    assert counts["sentences"] > counts["chunks"]
    assert counts["doc_ids"] == {p.name for p in fake_settings.sources.glob("*.txt")}
    # Each chunk and each sentence is embedded once (equal texts once between them).
    encoded = fake_encoder.texts_encoded
    assert len(encoded) == len(set(encoded)) <= counts["chunks"] + counts["sentences"]
    assert len(encoded) >= counts["chunks"]
    line = str(report)
    assert line.startswith("documents: 5 added, 0 updated, 0 removed, 0 unchanged; ")
    assert f"; {counts['chunks']} chunks; " in line and line.endswith(" s")


def test_a_one_sentence_chunk_is_embedded_once(tmp_path: Path, fake_encoder: FakeEncoder) -> None:
    sources = tmp_path / "sources"
    sources.mkdir()
    (sources / "short.txt").write_text("The bridge opened in May 2020.\n", encoding="utf-8")
    settings = Settings.load(
        env={}, sources=sources, index=tmp_path / "index", model=FAKE_MODEL, progress=False
    )
    build_index(settings)
    assert fake_encoder.texts_encoded == ["The bridge opened in May 2020."]
    index = open_index(settings)
    assert index.store.count("chunks") == index.store.count("sentences") == 1
    chunk_id, sentence_id = index.store.con.execute(
        "SELECT id, first_sentence FROM chunks"
    ).fetchone()
    blob = index.store.sentences([(sentence_id, sentence_id)])[sentence_id][2]
    assert blob is not None  # the one vector went to both sinks
    sentence = np.frombuffer(blob, dtype=np.float16).astype(np.float32)
    assert np.allclose(sentence, index.vectors.reconstruct([chunk_id])[0], atol=1e-3)


def test_sidecar_metadata_is_stored(fake_settings: Settings) -> None:
    build_index(fake_settings)
    idx = open_index(fake_settings)
    try:
        docs = {d["doc_id"]: d for d in idx.store.list_documents()}
    finally:
        idx.close()
    seed = docs["002_a4725ca1221cdf27.txt"]
    assert seed["title"] == "Russia's Supreme Court lifts the ban on the Afghan Taliban"
    assert docs[SEED_A]["publisher"].startswith("Sangar")
    assert docs[SEED_A]["date"] == "2025-04-18"
    assert docs[SEED_A]["url"].startswith("https://sangar.info/")
    assert all(d["chunks"] > 0 and d["added_at"] for d in docs.values())


def test_manifest_describes_the_index(fake_settings: Settings, fake_encoder: FakeEncoder) -> None:
    build_index(fake_settings)
    m = json.loads((fake_settings.index / MANIFEST).read_text())  # the format on disk
    assert m["format"] == FORMAT_VERSION
    assert m["generation"] == "gen-000001"
    shape = m["shape"]
    assert shape["model"] == FAKE_MODEL and shape["dim"] == fake_encoder.dim == 64
    assert shape["chunk_tokens"] == fake_settings.chunk_tokens
    assert shape["chunk_overlap"] == fake_settings.chunk_overlap
    assert shape["max_wordpieces"] == fake_settings.max_wordpieces
    assert shape["format"] == FORMAT_VERSION and "pipeline" in shape and shape["id"]
    assert set(m["counts"]) == {"files", "documents", "chunks", "sentences"}
    generation = fake_settings.index / m["generation"]
    import hashlib

    for name in (DB_FILE, VECTORS_FILE):
        data = (generation / name).read_bytes()
        assert m["files"][name]["sha256"] == hashlib.sha256(data).hexdigest()
        assert m["files"][name]["bytes"] == len(data)
    assert m["vectors"]["kind"] == "flat"
    assert m["built_at"]
    # Only the manifest, the lock and one generation: no temporary folders left behind.
    names = {p.name for p in fake_settings.index.iterdir()}
    assert names <= {MANIFEST, ".lock", "gen-000001"}


def test_manifest_reads_typed_and_writes_back_the_same_bytes(
    fake_settings: Settings, fake_encoder: FakeEncoder
) -> None:
    build_index(fake_settings)
    on_disk = (fake_settings.index / MANIFEST).read_bytes()
    m = manifest(fake_settings)
    data = json.loads(on_disk)
    assert m.generation == data["generation"] and m.counts == data["counts"]
    assert (m.shape.model, m.shape.dim) == (FAKE_MODEL, fake_encoder.dim)
    assert m.shape.chunking == {
        k: v for k, v in fake_settings.index_fingerprint().items() if k != "model"
    }
    assert m.files[DB_FILE].sha256 == data["files"][DB_FILE]["sha256"]
    assert m.vectors_kind == "flat" and m.built_at == data["built_at"]
    assert m.encode() == on_disk  # byte for byte what every version wrote
    # A manifest of an older version without the "vectors" entry still reads (as flat).
    del data["vectors"]
    assert Manifest.from_json(data).vectors_kind == "flat"


# --- incremental updates --------------------------------------------------------------------


def test_rerun_without_changes_is_a_no_op(
    fake_settings: Settings, fake_encoder: FakeEncoder
) -> None:
    build_index(fake_settings)
    before = manifest(fake_settings)
    fake_encoder.calls.clear()
    report = build_index(fake_settings)
    assert (report.added, report.updated, report.removed, report.unchanged) == (0, 0, 0, 5)
    assert report.chunks == before.counts["chunks"]
    assert manifest(fake_settings) == before  # same generation, not even rewritten
    assert generations(fake_settings) == ["gen-000001"]
    assert fake_encoder.calls == []


def test_touch_without_change_is_unchanged(
    fake_settings: Settings, fake_encoder: FakeEncoder
) -> None:
    build_index(fake_settings)
    before = manifest(fake_settings)
    fake_encoder.calls.clear()
    path = fake_settings.sources / SEED_A
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    report = build_index(fake_settings)
    assert (report.added, report.updated, report.removed, report.unchanged) == (0, 0, 0, 5)
    assert manifest(fake_settings).generation == before.generation
    assert fake_encoder.calls == []
    # Touched and then another file really changes: still only that file is re-embedded.
    (fake_settings.sources / "new.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    report = build_index(fake_settings)
    assert (report.added, report.updated, report.unchanged) == (1, 0, 5)
    assert sources_of(fake_encoder.texts_encoded, NEW_ARTICLE)


def test_add_a_file(fake_settings: Settings, fake_encoder: FakeEncoder) -> None:
    build_index(fake_settings)
    first = check_index(fake_settings, fake_encoder)
    fake_encoder.calls.clear()
    (fake_settings.sources / "new.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    report = build_index(fake_settings)
    assert (report.added, report.updated, report.removed, report.unchanged) == (1, 0, 0, 5)
    after = check_index(fake_settings, fake_encoder)
    assert after["documents"] == 6 and after["doc_ids"] == first["doc_ids"] | {"new.txt"}
    assert after["chunks"] > first["chunks"] and report.chunks == after["chunks"]
    # Unchanged files were not re-embedded: everything encoded comes from the new article.
    assert fake_encoder.texts_encoded and sources_of(fake_encoder.texts_encoded, NEW_ARTICLE)
    # The replaced generation stays (an open app may still read it); older ones go.
    assert generations(fake_settings) == ["gen-000001", "gen-000002"]


def test_change_a_file(fake_settings: Settings, fake_encoder: FakeEncoder) -> None:
    build_index(fake_settings)
    first = check_index(fake_settings, fake_encoder)
    fake_encoder.calls.clear()
    path = fake_settings.sources / SEED_B
    changed = path.read_text(encoding="utf-8") + (
        "\n\nIn a late update, the ministry confirmed that the platypus envoy had arrived.\n"
    )
    path.write_text(changed, encoding="utf-8")
    report = build_index(fake_settings)
    assert (report.added, report.updated, report.removed, report.unchanged) == (0, 1, 0, 4)
    after = check_index(fake_settings, fake_encoder)
    assert after["documents"] == first["documents"] and after["doc_ids"] == first["doc_ids"]
    assert fake_encoder.texts_encoded and sources_of(fake_encoder.texts_encoded, changed)
    assert any("platypus" in t for t in fake_encoder.texts_encoded)
    idx = open_index(fake_settings)
    try:
        assert "platypus envoy" in idx.store.document_by_doc_id(SEED_B)["text"]
        assert [cid for cid, _ in idx.store.bm25("platypus", 5)]
    finally:
        idx.close()


def test_delete_a_file(fake_settings: Settings, fake_encoder: FakeEncoder) -> None:
    build_index(fake_settings)
    first = check_index(fake_settings, fake_encoder)
    fake_encoder.calls.clear()
    (fake_settings.sources / SEED_B).unlink()  # its sidecar stays: reported, not indexed
    report = build_index(fake_settings)
    assert (report.added, report.updated, report.removed, report.unchanged) == (0, 0, 1, 4)
    after = check_index(fake_settings, fake_encoder)
    assert after["doc_ids"] == first["doc_ids"] - {SEED_B}
    assert after["chunks"] < first["chunks"]
    assert fake_encoder.texts_encoded == []
    assert any(SEED_B in source for source, _ in report.skipped)  # the orphaned sidecar
    idx = open_index(fake_settings)
    try:
        assert idx.store.document_by_doc_id(SEED_B) is None
        assert idx.store.bm25("Smadiyarov", 5) == []  # a name only that article held
    finally:
        idx.close()


def test_file_that_becomes_unreadable_leaves_the_index(
    fake_settings: Settings, fake_encoder: FakeEncoder
) -> None:
    build_index(fake_settings)
    (fake_settings.sources / SEED_B).write_bytes(b"caf\xe9 au lait, " * 20)
    report = build_index(fake_settings)
    assert report.removed == 1 and report.updated == 0
    assert [source for source, _ in report.skipped] == [SEED_B]
    assert "UTF-8" in report.skipped[0][1]
    assert SEED_B not in check_index(fake_settings, fake_encoder)["doc_ids"]


def test_updates_in_sequence_stay_consistent(
    fake_settings: Settings, fake_encoder: FakeEncoder
) -> None:
    sources = fake_settings.sources
    build_index(fake_settings)
    steps = [
        lambda: (sources / "new.txt").write_text(NEW_ARTICLE, encoding="utf-8"),
        lambda: (sources / SEED_A).unlink(),
        lambda: (sources / "new.txt").write_text(
            NEW_ARTICLE + "\nOne more line here.", encoding="utf-8"
        ),
        lambda: (sources / "sub").mkdir(),
        lambda: (sources / "sub" / "nested.md").write_text(
            "---\ntitle: Nested\n---\n# Nested\n\nA nested markdown article about owls. "
            "Owls hunt at night.",
            encoding="utf-8",
        ),
        lambda: (sources / "many.jsonl").write_text(
            json.dumps({"id": "x", "text": "Jsonl article one about herons. Herons fish."})
            + "\n"
            + json.dumps({"id": "y", "text": "Jsonl article two about cranes. Cranes dance."})
            + "\n",
            encoding="utf-8",
        ),
        lambda: (sources / "new.txt").unlink(),
    ]
    for step in steps:
        step()
        build_index(fake_settings)
        check_index(fake_settings, fake_encoder)
    final = check_index(fake_settings, fake_encoder)
    assert final["doc_ids"] == {
        "001_f40b61988599ebfd.txt",
        "002_a4725ca1221cdf27.txt",
        "003_787abfcb210d046c.txt",
        "004_2126f60433bc8f94.txt",
        "sub/nested.md",
        "many.jsonl#x",
        "many.jsonl#y",
    }
    assert len(generations(fake_settings)) <= 2  # the current one and the one it replaced


def test_unchanged_counts_the_same_things_in_every_run(
    fake_settings: Settings, fake_encoder: FakeEncoder
) -> None:
    (fake_settings.sources / "many.jsonl").write_text(
        json.dumps({"id": "x", "text": "Jsonl article one about herons. Herons fish."})
        + "\n"
        + json.dumps({"id": "y", "text": "Jsonl article two about cranes. Cranes dance."})
        + "\n",
        encoding="utf-8",
    )
    build_index(fake_settings)
    no_op = build_index(fake_settings)
    replaced = "A replaced article. It is short."
    (fake_settings.sources / SEED_A).write_text(replaced, encoding="utf-8")
    one_changed = build_index(fake_settings)
    assert one_changed.updated == 1
    assert no_op.unchanged == one_changed.unchanged + one_changed.updated


# --- rebuilding and refusing mismatched indexes ---------------------------------------------


def test_rebuild_builds_everything_again(
    fake_settings: Settings, fake_encoder: FakeEncoder
) -> None:
    build_index(fake_settings)
    first = check_index(fake_settings, fake_encoder)
    fake_encoder.calls.clear()
    report = build_index(fake_settings, rebuild=True)
    assert (report.added, report.unchanged) == (5, 0)
    assert manifest(fake_settings).generation != "gen-000001"
    again = check_index(fake_settings, fake_encoder)
    assert {k: v for k, v in again.items()} == first
    assert len(fake_encoder.texts_encoded) == first["chunks"] + first["sentences"]


def test_rebuild_keeps_only_the_replaced_generation(fake_settings: Settings) -> None:
    build_index(fake_settings)
    build_index(fake_settings, rebuild=True)
    build_index(fake_settings, rebuild=True)
    assert generations(fake_settings) == ["gen-000002", "gen-000003"]
    assert manifest(fake_settings).generation == "gen-000003"


def test_other_chunk_settings_are_refused(fake_settings: Settings) -> None:
    build_index(fake_settings)
    other = fake_settings.with_(chunk_tokens=64)
    with pytest.raises(IndexMismatchError) as info:
        open_index(other)
    message = str(info.value)
    assert "rag index --rebuild" in message and "chunk_tokens" in message
    assert str(fake_settings.index) in message
    with pytest.raises(IndexMismatchError, match="rag index --rebuild"):
        build_index(other)  # an update with other settings is refused too
    with pytest.raises(IndexMismatchError, match="chunk_overlap"):
        open_index(fake_settings.with_(chunk_overlap=0))
    # The refused attempts did not damage anything.
    open_index(fake_settings).close()
    report = build_index(other, rebuild=True)
    assert report.added == 5
    open_index(other).close()
    with pytest.raises(IndexMismatchError):
        open_index(fake_settings)


def test_another_model_is_refused(fake_settings: Settings) -> None:
    build_index(fake_settings)
    register_fake("fake-hash-other")  # same dimension, another model
    with pytest.raises(IndexMismatchError) as info:
        open_index(fake_settings.with_(model="fake-hash-other"))
    assert "rag index --rebuild" in str(info.value) and "fake-hash-other" in str(info.value)
    register_fake("fake-hash-32", dim=32)  # another dimension as well
    with pytest.raises(IndexMismatchError, match="rag index --rebuild"):
        open_index(fake_settings.with_(model="fake-hash-32"))
    with pytest.raises(IndexMismatchError, match="rag index --rebuild"):
        build_index(fake_settings.with_(model="fake-hash-32"))


def test_other_format_is_refused(fake_settings: Settings) -> None:
    build_index(fake_settings)
    path = fake_settings.index / MANIFEST
    data = json.loads(path.read_text())
    data["format"] = FORMAT_VERSION + 1
    path.write_text(json.dumps(data))
    with pytest.raises(IndexMismatchError, match="rag index --rebuild"):
        open_index(fake_settings)
    # One whose layout this version cannot even parse is refused for its format too.
    path.write_text(json.dumps({"format": FORMAT_VERSION + 1, "generations": []}))
    with pytest.raises(IndexMismatchError, match=f"has format {FORMAT_VERSION + 1}"):
        open_index(fake_settings)
    assert build_index(fake_settings, rebuild=True).added == 5  # the advertised way out


# --- missing and corrupt indexes ------------------------------------------------------------


def test_missing_index(fake_settings: Settings) -> None:
    with pytest.raises(IndexMissingError) as info:
        open_index(fake_settings)
    assert "rag index" in str(info.value) and str(fake_settings.index) in str(info.value)
    fake_settings.index.mkdir()
    with pytest.raises(IndexMissingError):
        open_index(fake_settings)


@pytest.mark.parametrize("name", [VECTORS_FILE, DB_FILE])
def test_corrupt_index_file(fake_settings: Settings, name: str) -> None:
    build_index(fake_settings)
    path = fake_settings.index / manifest(fake_settings).generation / name
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(IndexCorruptError, match="rag index --rebuild"):
        open_index(fake_settings)


def test_truncated_and_missing_index_files(fake_settings: Settings) -> None:
    build_index(fake_settings)
    generation = fake_settings.index / manifest(fake_settings).generation
    (generation / VECTORS_FILE).write_bytes(b"")
    with pytest.raises(IndexCorruptError):
        open_index(fake_settings)
    (generation / VECTORS_FILE).unlink()
    with pytest.raises(IndexCorruptError):
        open_index(fake_settings)


def test_unreadable_manifest(fake_settings: Settings) -> None:
    build_index(fake_settings)
    (fake_settings.index / MANIFEST).write_text('{"format": 1, "generat')
    with pytest.raises(IndexCorruptError, match="rag index --rebuild"):
        open_index(fake_settings)
    report = build_index(fake_settings, rebuild=True)  # the advertised way out works
    assert report.added == 5
    open_index(fake_settings).close()


def test_corrupt_index_is_repaired_by_rebuild(
    fake_settings: Settings, fake_encoder: FakeEncoder
) -> None:
    build_index(fake_settings)
    path = fake_settings.index / manifest(fake_settings).generation / VECTORS_FILE
    path.write_bytes(b"garbage")
    build_index(fake_settings, rebuild=True)
    check_index(fake_settings, fake_encoder)


# --- bad sources ----------------------------------------------------------------------------


def test_bad_files_are_skipped_with_reasons(
    fake_settings: Settings, fake_encoder: FakeEncoder
) -> None:
    sources = fake_settings.sources
    (sources / "empty.txt").write_bytes(b"")
    (sources / "blank.txt").write_text("  \n\n \t\n", encoding="utf-8")
    (sources / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    (sources / "latin1.txt").write_bytes("Café in Zürich. Straße.".encode("latin-1"))
    (sources / "notes.docx").write_bytes(b"PK\x03\x04")  # unsupported: ignored silently
    report = build_index(fake_settings)
    assert report.added == 5
    skipped = dict(report.skipped)
    assert set(skipped) == {"empty.txt", "blank.txt", "binary.txt", "latin1.txt"}
    assert "empty" in skipped["empty.txt"] and "empty" in skipped["blank.txt"]
    assert "binary" in skipped["binary.txt"]
    assert "UTF-8" in skipped["latin1.txt"]
    line = str(report)
    assert "skipped 4" in line
    for name, reason in skipped.items():
        assert f"{name} ({reason})" in line
    counts = check_index(fake_settings, fake_encoder)
    assert counts["documents"] == 5 and "latin1.txt" not in counts["doc_ids"]
    # Bad files stay skipped on the next run, which is still a no-op.
    again = build_index(fake_settings)
    assert again.unchanged == 5 and set(dict(again.skipped)) == set(skipped)


def test_rerun_with_bad_files_keeps_the_generation(fake_settings: Settings) -> None:
    (fake_settings.sources / "empty.txt").write_bytes(b"")
    build_index(fake_settings)
    before = manifest(fake_settings)
    report = build_index(fake_settings)
    assert report.unchanged == 5 and [name for name, _ in report.skipped] == ["empty.txt"]
    assert manifest(fake_settings).generation == before.generation


def test_chrome_only_file_is_skipped(fake_settings: Settings) -> None:
    (fake_settings.sources / "chrome.txt").write_text(
        "Subscribe\nShare this article\n", encoding="utf-8"
    )
    report = build_index(fake_settings)
    assert report.added >= 5
    assert any(name == "chrome.txt" for name, _ in report.skipped)


def test_empty_sources_folder_is_a_clear_error(tmp_path: Path, fake_encoder: FakeEncoder) -> None:
    (tmp_path / "sources").mkdir()
    settings = Settings.load(
        env={}, sources=tmp_path / "sources", index=tmp_path / "index", model=FAKE_MODEL
    )
    with pytest.raises(RagError) as info:
        build_index(settings)
    assert str(tmp_path / "sources") in str(info.value)
    assert "Nothing to index" in str(info.value)
    assert read_manifest(settings.index) is None
    (tmp_path / "sources" / "bad.txt").write_bytes(b"\xff\xfe\xfd")
    with pytest.raises(RagError, match=r"bad\.txt"):  # only bad files: says why
        build_index(settings)


def test_missing_sources_folder_is_a_clear_error(tmp_path: Path, fake_encoder: FakeEncoder) -> None:
    settings = Settings.load(
        env={}, sources=tmp_path / "nowhere", index=tmp_path / "index", model=FAKE_MODEL
    )
    with pytest.raises(SourceError, match="folder not found"):
        build_index(settings)


# --- interrupted builds ---------------------------------------------------------------------


def failing_after(encoder: FakeEncoder, calls: int, exc: BaseException):
    real = encoder.encode

    def encode(texts: list[str], batch_size: int = 64):
        if len(encoder.calls) >= calls:
            raise exc
        return real(texts, batch_size)

    return encode


@pytest.mark.parametrize("exc", [RuntimeError("boom"), KeyboardInterrupt()])
def test_interrupted_build_leaves_previous_generation_usable(
    fake_settings: Settings,
    fake_encoder: FakeEncoder,
    monkeypatch: pytest.MonkeyPatch,
    exc: BaseException,
) -> None:
    build_index(fake_settings)
    before = manifest(fake_settings)
    first = check_index(fake_settings, fake_encoder)
    sources = fake_settings.sources
    (sources / "new.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    (sources / SEED_A).unlink()
    (sources / SEED_B).write_text("A rewritten article. It says little.", encoding="utf-8")
    fake_encoder.calls.clear()
    # The first batch of chunk vectors is added, then the build dies mid-way.
    monkeypatch.setattr(fake_encoder, "encode", failing_after(fake_encoder, 1, exc))
    with pytest.raises(type(exc)):
        build_index(fake_settings.with_(batch_size=1))
    assert len(fake_encoder.calls) == 1
    monkeypatch.undo()
    assert manifest(fake_settings) == before
    assert check_index(fake_settings, fake_encoder) == first  # old generation, intact

    from rag.retrieve import retrieve

    idx = open_index(fake_settings)
    try:
        assert len(retrieve(idx, "Supreme Court ban on the Taliban", 3).passages) == 3
    finally:
        idx.close()
    report = build_index(fake_settings)
    assert (report.added, report.updated, report.removed) == (1, 1, 1)
    after = check_index(fake_settings, fake_encoder)
    assert after["doc_ids"] == (first["doc_ids"] - {SEED_A}) | {"new.txt"}
    assert not [p for p in fake_settings.index.iterdir() if p.name.endswith(".tmp")]
    assert len(generations(fake_settings)) == 2  # current + the one it replaced


def test_interrupted_first_build_leaves_no_index(
    fake_settings: Settings, fake_encoder: FakeEncoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fake_encoder, "encode", failing_after(fake_encoder, 0, RuntimeError("x")))
    with pytest.raises(RuntimeError):
        build_index(fake_settings)
    with pytest.raises(IndexMissingError):
        open_index(fake_settings)
    monkeypatch.undo()
    assert build_index(fake_settings).added == 5


def test_index_folder_can_move(
    fake_settings: Settings, fake_encoder: FakeEncoder, tmp_path: Path
) -> None:
    build_index(fake_settings)
    moved = tmp_path / "moved"
    shutil.move(fake_settings.index, moved)
    check_index(fake_settings.with_(index=moved), fake_encoder)


def test_index_opened_before_an_update_keeps_serving_other_threads(
    fake_settings: Settings, fake_encoder: FakeEncoder
) -> None:
    import threading

    from rag.retrieve import retrieve

    build_index(fake_settings)
    idx = open_index(fake_settings)
    try:
        assert retrieve(idx, "Supreme Court", 3).passages
        (fake_settings.sources / "new.txt").write_text(NEW_ARTICLE, encoding="utf-8")
        build_index(fake_settings)  # publishes gen-000002, removes gen-000001
        errors: list[BaseException] = []

        def query() -> None:
            try:
                retrieve(idx, "Supreme Court", 3)
            except BaseException as e:  # report it in the main thread
                errors.append(e)

        worker = threading.Thread(target=query)
        worker.start()
        worker.join()
        assert errors == []
    finally:
        idx.close()


@pytest.mark.slow
def test_auto_keeps_an_index_whose_documents_are_in_full_precision(
    seed_sources: Path, tmp_path: Path
) -> None:
    """An index built with full-precision document vectors (`onnx`, or before int8
    documents were the default) is read and updated under "auto" without a rebuild;
    a rebuild switches it to int8 documents; asking for int8 explicitly is refused."""
    full = Settings.load(
        env={}, sources=seed_sources, index=tmp_path / "index", embed_backend="onnx"
    ).with_(progress=False)
    build_index(full)
    model = read_manifest(full.index).shape.model  # type: ignore[union-attr]
    assert model == "all-MiniLM-L6-v2"
    auto = full.with_(embed_backend="auto")
    index = open_index(auto)
    assert index.encoder is index.query_encoder and index.encoder.name == model
    (seed_sources / "quokkas.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    report = build_index(auto)
    assert report.added == 1 and read_manifest(auto.index).shape.model == model  # type: ignore[union-attr]
    with pytest.raises(IndexMismatchError, match="rebuild"):
        open_index(full.with_(embed_backend="onnx-int8"))
    build_index(auto, rebuild=True)
    int8 = read_manifest(auto.index).shape.model  # type: ignore[union-attr]
    assert int8 == "all-MiniLM-L6-v2+onnx-int8-per-channel"
    assert open_index(auto).encoder.name == int8
    with pytest.raises(IndexMismatchError, match="rebuild"):
        open_index(full)
