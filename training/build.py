"""`rag train-reader`: train, export, fit the question adapter, calibrate, and write the
model card, in one run.

The PyTorch checkpoint goes to `OUT/train` (not shipped); the shipped files
(`reader-int8.onnx`, `tokenizer.json`, `adapter.npy`, `reader.json`, `MODEL_CARD.md`) go to
`OUT`. Copy them into `rag/reader/model` to ship a new reader. This module only sequences
the steps and writes the card; each step lives in its own module. `python -m training.build
FOLDER --data DATA --trained-by COMMAND` calibrates an exported reader again.
"""

from __future__ import annotations

import json
import platform
from pathlib import Path

from rag.errors import ModelError, RagError

from .calibrate import extension
from .data import check_data


def build(
    data: Path,
    out: Path,
    *,
    minutes: float = 80.0,
    steps: int = 0,
    limit: int = 0,
    seed: int = 13,
    news: tuple[Path, ...] = (),
    command: str = "",
) -> Path:
    """Train, export, fit the adapter and calibrate a reader into `out`; `command` is the
    one the card names."""
    check_data(data)
    try:
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError as e:
        raise ModelError(f"Training needs torch and transformers ({e}): pip install -e .") from e
    from .adapter import AdapterConfig, train_adapter
    from .calibrate import calibrate
    from .export import FP32, export
    from .train import TrainConfig, train

    config = TrainConfig(
        data=str(data),
        out=str(out / "train"),
        max_minutes=minutes,
        steps=steps,
        limit=limit,
        seed=seed,
        news=":".join(str(folder) for folder in news),
    )
    export(train(config), out)
    train_adapter(out, data, AdapterConfig(seed=seed))
    result = calibrate(out, data, limit=limit)
    (out / FP32).unlink()  # calibration is done; only int8 ships
    write_card(out, command)
    print(table(result))
    return out


def recalibrate(folder: Path, data: Path, trained_by: str) -> dict:
    """Calibrate an exported reader in `folder` again (after `calibrate` changed) and
    rewrite its card, which names `trained_by` (the command that trained it) and this
    step; the weights stay as they are."""
    from .calibrate import calibrate

    check_data(data)
    if not (folder / "reader.json").is_file():
        raise ModelError(f"{folder} holds no exported reader (reader.json is missing).")
    result = calibrate(folder, data)
    again = f"python -m training.build {folder} --data {data} --trained-by TRAINED_BY"
    write_card(folder, f"{trained_by}; recalibrated: {again}")
    print(table(result))
    return result


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(description=recalibrate.__doc__)
    parser.add_argument("folder", type=Path, help="an exported reader, e.g. rag/reader/model")
    parser.add_argument("--data", type=Path, required=True, help="the QA sets (shared/data/qa)")
    parser.add_argument("--trained-by", required=True, help="the training command, for the card")
    args = parser.parse_args(argv)
    try:
        recalibrate(args.folder, args.data, args.trained_by)
    except RagError as e:
        raise SystemExit(f"error: {e}") from None


COLUMNS = (
    "questions", "unanswerable", "answer_removed", "top1_cheap", "top1_reader", "top1_fused",
    "hit_with_joins", "false_abstain", "unanswerable_abstained", "answer_removed_abstained",
    "under_floor", "other_article_under_floor",
)  # fmt: skip


def cell(v: object) -> str:
    """A metric as a table shows it: 3 decimals, "-" for none."""
    return "-" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v)


def table(result: dict) -> str:
    """The held-out metrics per split as a Markdown table (the card's and the command's)."""
    lines = ["| split | " + " | ".join(COLUMNS) + " |", "|---" * (len(COLUMNS) + 1) + "|"]
    for split, m in result.items():
        if isinstance(m, dict) and "top1_fused" in m:
            lines.append(f"| {split} | " + " | ".join(cell(m.get(c)) for c in COLUMNS) + " |")
    return "\n".join(lines)


def write_card(folder: Path, command: str) -> None:
    """MODEL_CARD.md from reader.json: data and licences, training, held-out metrics."""
    meta = json.loads((folder / "reader.json").read_text())
    train, cal, held = meta["train"], meta["calibration"], meta["heldout"]
    rows = table(held)
    curve = "\n".join(
        f"| {c['threshold']:.2f} | {c['false_abstain']:.3f} | {c['unanswerable_abstained']:.3f} "
        f"| {c['answer_removed_abstained']:.3f} |"
        for c in held["curve"]
    )
    floors = "\n".join(
        f"| {c['floor']:.2f} | "
        + " | ".join(" / ".join(cell(v) for v in shares) for k, shares in c.items() if k != "floor")
        + " |"
        for c in held["floor_curve"]
    )
    template = (Path(__file__).parent / "MODEL_CARD.template.md").read_text()
    adapter = meta.get("adapter")
    if adapter:
        a = adapter["config"]
        before_after = ", ".join(
            f"{split} {plain:.3f} → {adapted:.3f}"
            for split, (plain, adapted) in adapter["heldout_top1_cosine"].items()
        )
        adapter_text = (
            f"`adapter.npy`: a square matrix applied to the question vector before the cheap "
            f"scorer takes its sentence cosines (`python -m training.adapter FOLDER --data "
            f"DATA`, {adapter['minutes']} minutes). Trained from the identity on "
            f"{adapter['train_questions']} answerable training questions: softmax over each "
            f"question's sentences at temperature {a['tau']}, ||M − I||² weight {a['lam']}, "
            f"Adam lr {a['lr']}, {a['batch']} questions a step, seed {a['seed']}; epoch "
            f"{adapter['epoch_kept']} of {a['epochs']} kept (best held-out top-1). Held-out "
            f"top-1 by the cosine alone, plain → adapted: {before_after}."
        )
    else:
        adapter_text = "None: the cheap scorer compares sentences with the question vector."
    extend = extension(cal)
    reading_on = (
        "never (no setting beat the shortlist alone)"
        if extend is None
        else f"when no logit of the shortlist reaches {extend[0]}, the reader reads\nthe cheap "
        f"ranking's first {extend[1]} sentences (the best held-out setting)"
    )
    text = template.format(
        **train["config"],
        extension=reading_on,
        **cal,
        **{k: train[k] for k in ("train_questions", "steps_done", "steps_planned")},
        command=command or "rag train-reader --data ../shared/data/qa --out OUT",
        machine=platform.machine(),
        rows=rows,
        curve=curve,
        floors=floors,
        adapter=adapter_text,
    )
    (folder / "MODEL_CARD.md").write_text(text)


if __name__ == "__main__":
    main()
