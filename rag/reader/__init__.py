"""The trained reader: does this sentence answer this question?

`get_reader(folder)` returns a process-wide `Reader` (loaded lazily, once, thread-safe)
over a folder holding `reader-int8.onnx`, `tokenizer.json`, `reader.json` and
`adapter.npy`; the default folder ships inside the package (`rag/reader/model`, trained by
`rag train-reader`, see its MODEL_CARD.md). `Reader.logits(question, sentences)` reads
each (question, sentence) pair as a cross-encoder and returns one logit per sentence: above
0 it more likely answers than not. `Reader.judge` is the judge fitted for this reader
(`judge.json`, `rag.judge`): which read sentence answers, and how likely the answer shown
is right. `Reader.adapt(query_vector, model)` maps a question vector through the folder's
question adapter (`adapter.npy`), which the cheap scorer's sentence cosines use. Each pair
runs alone, on one thread: dynamic int8 scales activations over a run, so a pair batched
with others would score a little differently, and scores must not depend on what else was
asked at the same time.

This package answers with a reader; it does not retrieve or choose sentences
(`rag.extractive` does) nor train, export or calibrate one (the top-level `training`
package does, and this package never imports it).
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ModelError
from ..judge import JUDGE_FILE, Judge, load_judge
from ..manifest import file_sha256

BUNDLED = Path(__file__).parent / "model"
MODEL_FILE = "reader-int8.onnx"
FILES = (MODEL_FILE, "tokenizer.json", "reader.json")
ADAPTER_FILE = "adapter.npy"  # the question adapter, when reader.json names one
FIX = (
    "reinstall the package (pip install -e .) to restore the shipped reader, point "
    "RAG_READER_MODEL at a folder made by `rag train-reader`, or set "
    "RAG_ANSWER_READER=cosine to answer without it"
)


@dataclass(frozen=True)
class Calibration:
    """What answering takes of the calibration on held-out splits (`training.calibrate`,
    reader.json's "calibration"; the rest of it reports the reader alone)."""

    # The best sentence cosine under which a question is off topic (None: an older
    # calibration fitted none; `rag.extractive.ABSTAIN_BELOW` applies).
    cosine_floor: float | None = None


class Reader:
    """A reader folder; `calibrated=False` opens one whose calibration is yet to be done."""

    def __init__(self, folder: Path, calibrated: bool = True, model_file: str = MODEL_FILE) -> None:
        self.folder, self.model_file = folder, model_file
        missing = [name for name in {model_file, *FILES[1:]} if not (folder / name).is_file()]
        if missing:
            raise ModelError(
                f"The answer reader in {folder} is missing {', '.join(missing)}: {FIX}."
            )
        try:
            self.meta = json.loads((folder / "reader.json").read_text(encoding="utf-8"))
            self.max_length = int(self.meta["max_length"])
            # The embedding model whose question vectors the adapter maps ("": none).
            adapter = self.meta.get("adapter")
            self.adapter_model = str(adapter["model"]) if adapter else ""
            cal = self.meta["calibration"] if calibrated else None
            floor = cal.get("cosine_floor") if cal else None
            self.calibration = cal and Calibration(None if floor is None else float(floor))
        except (ValueError, KeyError, TypeError) as e:
            raise ModelError(f"{folder / 'reader.json'} is unreadable ({e!r}): {FIX}.") from e
        if self.adapter_model and not (folder / ADAPTER_FILE).is_file():
            raise ModelError(f"The answer reader in {folder} is missing {ADAPTER_FILE}: {FIX}.")
        self._session: Any = None
        self._tokenizer: Any = None
        self._adapter: Any = None
        self._judge: Judge | None = None
        self._lock = threading.Lock()

    @property
    def judge(self) -> Judge:
        """The judge fitted for this reader (`judge.json` in its folder)."""
        if self._judge is None:
            judge = load_judge(self.folder)
            if judge is None:
                raise ModelError(
                    f"The answer reader in {self.folder} has no {JUDGE_FILE}: fit it with "
                    f"`python -m training.judge {self.folder}` (docs/reader.md), or {FIX}."
                )
            self._judge = judge
        return self._judge

    def _load(self) -> tuple[Any, Any]:
        with self._lock:
            if self._session is None:
                for name, expected in self.meta.get("sha256", {}).items():
                    if file_sha256(self.folder / name) != expected:
                        raise ModelError(
                            f"{self.folder / name} is damaged (its checksum does not match "
                            f"reader.json): {FIX}."
                        )
                try:
                    import onnxruntime as ort
                    from tokenizers import Tokenizer

                    options = ort.SessionOptions()
                    options.intra_op_num_threads = 1  # one pair per run, one run per core
                    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
                    session = ort.InferenceSession(
                        str(self.folder / self.model_file),
                        options,
                        providers=["CPUExecutionProvider"],
                    )
                    tokenizer = Tokenizer.from_file(str(self.folder / "tokenizer.json"))
                except ImportError as e:
                    raise ModelError(
                        f"The answer reader needs onnxruntime and tokenizers ({e}): "
                        f"pip install onnxruntime tokenizers, or {FIX}."
                    ) from e
                except Exception as e:  # onnxruntime's own errors for a truncated file
                    raise ModelError(
                        f"Could not load {self.folder / self.model_file} ({e}): {FIX}."
                    ) from e
                tokenizer.no_padding()
                tokenizer.enable_truncation(self.max_length)
                if self.adapter_model:
                    import numpy as np

                    try:
                        self._adapter = np.load(self.folder / ADAPTER_FILE)
                    except (OSError, ValueError) as e:
                        raise ModelError(
                            f"Could not load {self.folder / ADAPTER_FILE} ({e}): {FIX}."
                        ) from e
                self._tokenizer, self._session = tokenizer, session
            return self._session, self._tokenizer

    def adapt(self, query_vector: Any, model: str) -> Any:
        """The question vector the cheap scorer compares sentences with: mapped by the
        adapter (unit length) when this reader has one for the index's embedding `model`
        and its dimension, else None (the plain cosine)."""
        if self.adapter_model != model:
            return None
        self._load()
        import numpy as np

        vector = np.asarray(query_vector, dtype=np.float32)
        if vector.shape != (self._adapter.shape[1],):
            return None
        mapped = self._adapter @ vector
        return mapped / max(float(np.linalg.norm(mapped)), 1e-12)

    def logits(self, question: str, sentences: list[str]) -> list[float]:
        """One logit per sentence: how likely it answers `question` (> 0: more than not)."""
        if not sentences:
            return []
        session, tokenizer = self._load()
        import numpy as np

        def one(sentence: str) -> float:
            e = tokenizer.encode(question, sentence)
            feeds = {
                "input_ids": np.asarray([e.ids], dtype=np.int64),
                "attention_mask": np.asarray([e.attention_mask], dtype=np.int64),
                "token_type_ids": np.asarray([e.type_ids], dtype=np.int64),
            }
            return float(session.run(None, feeds)[0][0])

        if len(sentences) == 1:
            return [one(sentences[0])]
        return list(_pool().map(one, sentences))


_READERS: dict[Path, Reader] = {}
_READERS_LOCK = threading.Lock()
_POOL: Any = None


def _pool() -> Any:
    global _POOL
    with _READERS_LOCK:
        if _POOL is None:
            from concurrent.futures import ThreadPoolExecutor

            _POOL = ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="reader")
        return _POOL


def get_reader(folder: str | Path = "") -> Reader:
    """The process-wide reader of `folder` ("" or unset: the one shipped in the package)."""
    path = Path(folder).expanduser().resolve() if folder else BUNDLED
    with _READERS_LOCK:
        if path not in _READERS:
            _READERS[path] = Reader(path)
        return _READERS[path]


__all__ = [
    "BUNDLED",
    "Calibration",
    "Reader",
    "get_reader",
]
