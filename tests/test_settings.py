"""Tests for rag.settings: defaults, RAG_* environment overrides, explicit overrides."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from rag.cli import _parser
from rag.embed import onnx_cache_folder
from rag.errors import RagError, SettingsError
from rag.settings import MAX_K, Settings, describe


def test_defaults() -> None:
    s = Settings.load(env={})
    assert s.sources == Path("sources") and s.index == Path("index")  # CONTRACT.md defaults
    assert s.k == 5
    assert s.model == "all-MiniLM-L6-v2"
    assert (s.chunk_tokens, s.chunk_overlap, s.max_wordpieces) == (200, 1, 256)
    assert s.batch_size == 16 and s.candidates == 40 and s.per_doc == 2
    assert s.answer_sentences == 4 and s.abstain_below == -1.0  # by answer reader
    assert s.progress is True
    assert s == Settings()


def test_every_setting_is_described_for_help() -> None:
    rows = describe()
    assert [name for name, _, _ in rows] == [f.name for f in dataclasses.fields(Settings)]
    assert all(text.strip() for _, _, text in rows)
    assert dict((n, d) for n, d, _ in rows)["k"] == "5"


def test_onnx_cache_and_allowed_hosts_are_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Read from RAG_* by `Settings` alone, as every other setting, and listed in --help."""
    env = {"RAG_ONNX_CACHE": "/data/onnx", "RAG_ALLOWED_HOSTS": "box.lan, [fe80::1]"}
    s = Settings.load(env=env)
    assert (s.onnx_cache, s.allowed_hosts) == ("/data/onnx", "box.lan, [fe80::1]")
    assert (Settings().onnx_cache, Settings().allowed_hosts) == ("", "")
    assert onnx_cache_folder(s.onnx_cache) == Path("/data/onnx")
    monkeypatch.setenv("XDG_CACHE_HOME", "/data/cache")
    monkeypatch.setenv("RAG_ONNX_CACHE", "/elsewhere")  # not read behind the settings' back
    assert onnx_cache_folder("") == Path("/data/cache/rag/onnx")
    assert all(f"RAG_{name} " in _parser().epilog for name in ("ONNX_CACHE", "ALLOWED_HOSTS"))


def test_environment_overrides_defaults() -> None:
    env = {
        "RAG_SOURCES": "/data/articles",
        "RAG_INDEX": "/data/idx",
        "RAG_K": " 7 ",
        "RAG_MODEL": "some-model",
        "RAG_CHUNK_TOKENS": "200",
        "RAG_ABSTAIN_BELOW": "0.5",
        "RAG_PROGRESS": "off",
        "RAG_PER_DOC": "2",
    }
    s = Settings.load(env=env)
    assert s.sources == Path("/data/articles") and isinstance(s.sources, Path)
    assert s.index == Path("/data/idx")
    assert s.k == 7 and isinstance(s.k, int)
    assert s.model == "some-model"
    assert s.chunk_tokens == 200
    assert s.abstain_below == pytest.approx(0.5) and isinstance(s.abstain_below, float)
    assert s.progress is False
    assert s.per_doc == 2


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("1", True),
        ("yes", True),
        ("TRUE", True),
        ("on", True),
        ("0", False),
        ("no", False),
        ("False", False),
        ("OFF", False),
    ],
)
def test_boolean_words(raw: str, value: bool) -> None:
    assert Settings.load(env={"RAG_PROGRESS": raw}).progress is value


def test_empty_environment_value_means_unset() -> None:
    assert Settings.load(env={"RAG_K": "", "RAG_INDEX": ""}) == Settings.load(env={})


def test_unrelated_environment_is_ignored() -> None:
    assert Settings.load(env={"K": "9", "RAG": "x", "HOME": "/nowhere"}) == Settings.load(env={})


def test_os_environ_is_the_default_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_K", "9")
    monkeypatch.setenv("RAG_INDEX", "/tmp/elsewhere")
    s = Settings.load()
    assert s.k == 9 and s.index == Path("/tmp/elsewhere")


def test_explicit_overrides_beat_environment() -> None:
    env = {"RAG_K": "7", "RAG_INDEX": "/env/index", "RAG_SOURCES": "/env/sources"}
    s = Settings.load(env=env, k=3, index=Path("/cli/index"), sources=None)
    assert s.k == 3
    assert s.index == Path("/cli/index")
    assert s.sources == Path("/env/sources")  # None: the flag was not given, env wins


def test_overrides_are_parsed_like_the_environment() -> None:
    s = Settings.load(env={}, k="4", index="some/dir", progress="no", abstain_below="0.2")
    assert s.k == 4 and s.index == Path("some/dir") and s.progress is False
    assert s.abstain_below == pytest.approx(0.2)


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"RAG_K": "abc"}, "RAG_K"),
        ({"RAG_K": "2.5"}, "RAG_K"),
        ({"RAG_CHUNK_TOKENS": "lots"}, "RAG_CHUNK_TOKENS"),
        ({"RAG_ABSTAIN_BELOW": "high"}, "RAG_ABSTAIN_BELOW"),
        ({"RAG_PROGRESS": "maybe"}, "RAG_PROGRESS"),
        ({"RAG_BATCH_SIZE": "1e3"}, "RAG_BATCH_SIZE"),
    ],
)
def test_unparsable_environment_value_names_the_variable(env: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError) as info:
        Settings.load(env=env)
    message = str(info.value)
    assert named in message
    assert repr(next(iter(env.values())).strip()) in message


@pytest.mark.parametrize(
    ("override", "named"),
    [({"k": "many"}, "--k"), ({"chunk_tokens": True}, "--chunk-tokens"), ({"k": 2.5}, "--k")],
)
def test_unparsable_override_names_the_flag(override: dict, named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        Settings.load(env={}, **override)


@pytest.mark.parametrize(
    ("name", "bad", "good"),
    [
        ("k", 0, MAX_K),
        ("k", MAX_K + 1, 1),
        ("chunk_tokens", 15, 16),
        ("chunk_tokens", 2049, 2048),
        ("chunk_overlap", -1, 0),
        ("chunk_overlap", 4, 3),
        ("max_wordpieces", 31, 32),
        ("batch_size", 0, 4096),
        ("candidates", 0, 1000),
        ("per_doc", 0, 1),
        ("answer_sentences", 11, 10),
        ("abstain_below", 1.5, 1.0),
        ("abstain_below", -0.1, 0.0),
        ("abstain_below", -2.0, -1.0),
        ("abstain_below", float("nan"), 0.5),
    ],
)
def test_out_of_range_values(name: str, bad: object, good: object) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.load(env={}, **{name: bad})
    assert getattr(Settings.load(env={}, **{name: good}), name) == good
    with pytest.raises(SettingsError, match=name):
        Settings.load(env={f"RAG_{name.upper()}": str(bad)})


def test_out_of_range_environment_value_names_the_variable() -> None:
    with pytest.raises(SettingsError, match="RAG_K"):
        Settings.load(env={"RAG_K": "0"})


def test_unknown_override_is_refused() -> None:
    with pytest.raises(SettingsError, match="colour"):
        Settings.load(env={}, colour="blue")


def test_settings_error_is_a_rag_error() -> None:
    assert issubclass(SettingsError, RagError)


def test_settings_are_frozen_and_with_checks() -> None:
    s = Settings.load(env={})
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.k = 9  # type: ignore[misc]
    assert s.with_(k=9).k == 9 and s.k == 5
    assert s.with_(k=None) == s
    with pytest.raises(SettingsError, match="k"):
        s.with_(k=0)


def test_index_fingerprint_holds_exactly_what_shapes_the_index() -> None:
    s = Settings.load(env={})
    assert s.index_fingerprint() == {
        "model": "all-MiniLM-L6-v2",
        "chunk_tokens": 200,
        "chunk_overlap": 1,
        "max_wordpieces": 256,
    }
    # Query-time settings and paths do not change it; chunking and the model do.
    same = s.with_(
        k=10,
        candidates=5,
        per_doc=1,
        abstain_below=0.9,
        index=Path("x"),
        sources=Path("y"),
        batch_size=8,
        progress=False,
        answer_sentences=1,
    )
    assert same.index_fingerprint() == s.index_fingerprint()
    for change in (
        {"chunk_tokens": 64},
        {"chunk_overlap": 0},
        {"max_wordpieces": 128},
        {"model": "other"},
    ):
        assert s.with_(**change).index_fingerprint() != s.index_fingerprint()
