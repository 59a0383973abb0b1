"""Turn a trained reader (a Hugging Face folder from `train.py`) into the shipped files.

Writes, into the target folder: `reader-fp32.onnx` (torch.onnx export: input_ids,
attention_mask, token_type_ids -> one logit per pair), `reader-int8.onnx` (its MatMul
weights quantized per channel, as the document encoder does), `tokenizer.json`, and
`reader.json` (maximum length, the learned no-answer logit, the training settings, the
files' SHA-256). The fp32 file is what calibration compares the int8 one with; only int8
is committed. It neither trains nor calibrates.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from rag.embed import export_onnx, quantize_int8
from rag.manifest import file_sha256
from rag.reader import MODEL_FILE as INT8

FP32 = "reader-fp32.onnx"


def export(trained: Path, target: Path) -> Path:
    from transformers import AutoModelForSequenceClassification

    target.mkdir(parents=True, exist_ok=True)
    model = AutoModelForSequenceClassification.from_pretrained(trained).eval()
    info = json.loads((trained / "train.json").read_text())
    export_onnx(model, lambda out: out.logits[:, 0], target / FP32, {"logit": {0: "batch"}})
    quantize_int8(target / FP32, target / INT8)
    shutil.copy(trained / "tokenizer.json", target / "tokenizer.json")
    meta = {
        "format": 1,
        "base_model": "all-MiniLM-L6-v2",
        "max_length": info["config"]["max_length"],
        "no_answer_logit": info["no_answer_logit"],
        "train": {
            # The run's settings without its folders: paths of one machine do not ship.
            "config": {k: v for k, v in info["config"].items() if k not in ("data", "out")},
            **{k: info[k] for k in ("steps_done", "steps_planned", "train_questions")},
        },
        "sha256": {name: file_sha256(target / name) for name in (INT8, "tokenizer.json")},
    }
    old = target / "reader.json"
    if old.exists():  # keep the calibration of an earlier run until it is redone
        meta = {**json.loads(old.read_text()), **meta}
    (target / "reader.json").write_text(json.dumps(meta, indent=1) + "\n")
    return target
