"""Shared fixtures: seed sources in tmp, a fake-encoder Settings, and one real-model index.

Tests never touch the network or the user's home: HOME, the XDG folders and the model
caches point into a session tmp folder (inherited by CLI subprocesses), the Hugging Face
hub is switched off, and `RAG_*` variables from the caller's shell are cleared so the
defaults are the defaults.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

# Before any test module is collected: Hugging Face libraries read these when first
# imported, and a test file that imports gradio before `ui` would otherwise phone home.
os.environ.update(HF_HUB_OFFLINE="1", HF_HUB_DISABLE_TELEMETRY="1")

import pytest
from fakes import FAKE_MODEL, FakeEncoder, register_fake
from helpers import REAL_MODEL, SEED_SOURCES, RealIndex, run_cli

from rag import Settings


@pytest.fixture(scope="session", autouse=True)
def _isolated_environment(tmp_path_factory: pytest.TempPathFactory):
    """Point every home/cache location into tmp and keep the hub offline, for the session."""
    home = tmp_path_factory.mktemp("home")
    env = {
        "HOME": str(home),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "HF_HOME": str(home / ".cache" / "huggingface"),
        "TORCH_HOME": str(home / ".cache" / "torch"),
        "TIKTOKEN_CACHE_DIR": str(home / ".cache" / "tiktoken"),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "GRADIO_ANALYTICS_ENABLED": "False",
        "TOKENIZERS_PARALLELISM": "false",
    }
    mp = pytest.MonkeyPatch()
    for name in [n for n in os.environ if n.startswith("RAG_")]:
        mp.delenv(name)
    for name, value in env.items():
        mp.setenv(name, value)
    yield
    mp.undo()


@pytest.fixture
def seed_sources(tmp_path: Path) -> Path:
    """A private copy of the seed articles and their sidecars."""
    target = tmp_path / "sources"
    shutil.copytree(SEED_SOURCES, target)
    return target


@pytest.fixture
def fake_encoder() -> FakeEncoder:
    """A fresh fake encoder registered as "fake-hash" through `rag.embed.register_encoder`."""
    return register_fake(FAKE_MODEL)


@pytest.fixture
def fake_settings(seed_sources: Path, tmp_path: Path, fake_encoder: FakeEncoder) -> Settings:
    """Settings for the seed copy, an index folder in tmp, and the fake encoder."""
    return Settings.load(
        env={}, sources=seed_sources, index=tmp_path / "index", model=FAKE_MODEL, progress=False
    )


@pytest.fixture(scope="session")
def real_index(tmp_path_factory: pytest.TempPathFactory, _isolated_environment) -> RealIndex:
    """The seeds indexed once per session with the real model, by the real `rag index`."""
    root = tmp_path_factory.mktemp("real")
    sources, index = root / "sources", root / "index"
    shutil.copytree(SEED_SOURCES, sources)
    done = run_cli("index", "--sources", str(sources), "--index", str(index), cwd=root)
    assert done.returncode == 0, done.stderr
    settings = Settings.load(env={}, sources=sources, index=index, model=REAL_MODEL)
    return RealIndex(settings, sources, index, done.stdout, done.stderr, done.returncode)
