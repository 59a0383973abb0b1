"""Turn a trained reader (a Hugging Face folder from `train.py`) into the shipped files.

Writes, into the target folder: `reader-fp32.onnx` (torch.onnx export: input_ids,
attention_mask, token_type_ids -> one logit per pair and, when the run trained a span
head, "span": start and end logits per word piece), `reader-int8.onnx` (its MatMul
weights quantized per channel, as the document encoder does), `tokenizer.json`, and
`reader.json` (maximum length, words of context, the learned no-answer logit, the files'
SHA-256). The fp32 file is what calibration compares the int8 one with; only int8 is committed. It
neither trains nor calibrates.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from ..embed import export_onnx, quantize_int8
from ..manifest import file_sha256
from . import MODEL_FILE as INT8
from .train import SPAN_HEAD, span_head

FP32 = "reader-fp32.onnx"


def export(trained: Path, target: Path) -> Path:
    import torch
    from transformers import AutoModelForSequenceClassification

    target.mkdir(parents=True, exist_ok=True)
    model = AutoModelForSequenceClassification.from_pretrained(trained).eval()
    info = json.loads((trained / "train.json").read_text())
    has_spans = (trained / SPAN_HEAD).exists()
    if has_spans:
        head = span_head(model.config.hidden_size)
        head.load_state_dict(torch.load(trained / SPAN_HEAD))

        class WithSpans(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.model, self.head = model, head.eval()

            def forward(self, **inputs):  # type: ignore[no-untyped-def]
                out = self.model(**inputs, output_hidden_states=True)
                return out.logits[:, 0], self.head(out.hidden_states[-1])

        export_onnx(
            WithSpans(),
            lambda out: out,
            target / FP32,
            {"logit": {0: "batch"}, "span": {0: "batch", 1: "pieces"}},
        )
    else:
        export_onnx(model, lambda out: out.logits[:, 0], target / FP32, {"logit": {0: "batch"}})
    quantize_int8(target / FP32, target / INT8)
    shutil.copy(trained / "tokenizer.json", target / "tokenizer.json")
    meta = {
        "format": 1,
        "base_model": "all-MiniLM-L6-v2",
        "max_length": info["config"]["max_length"],
        "context_words": info["config"].get("context_words", 0),
        "span_head": has_spans,
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
