"""The txtai comparison (`--txtai-python`): the same chunks, questions and model in txtai.

txtai lives in its own venv (its torch and dependencies are not this project's), so
`txtai_probe.py` runs there as a script and reports JSON; this module writes its input
and reads its answer. The script runs from a copy in the scratch folder, where no module
of this package sits beside it to shadow a module txtai imports. It needs a
sentence-transformers model folder (txtai loads the folder itself); with another encoder
it reports an error instead of measuring.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from .throughput import sentence_transformer

PROBE = Path(__file__).with_name("txtai_probe.py")


def txtai_compare(
    python: str, model: str, chunks: list[str], questions: list[str], work: Path
) -> dict[str, Any]:
    """Build and query txtai `Embeddings(hybrid=True)` on the same chunks, same model."""
    encoder = sentence_transformer(model)
    if encoder is None:
        return {"error": f"txtai needs a sentence-transformers model folder, not {model!r}"}
    spec = work / "txtai-spec.json"
    spec.write_text(
        json.dumps({"model": str(encoder.path), "chunks": chunks, "questions": questions})
    )
    script = shutil.copy(PROBE, work / PROBE.name)
    done = subprocess.run(
        [python, str(script), str(spec)],
        capture_output=True,
        text=True,
        timeout=3600,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    if done.returncode != 0:
        return {"error": done.stderr[-1000:]}
    return {
        "search": "Embeddings.search(q, 5): retrieval only, no answer step",
        **json.loads(done.stdout.strip().splitlines()[-1]),
    }
