"""Train the answer-sentence reader on this machine's CPU: `rag train-reader` runs this.

all-MiniLM-L6-v2 (the bundled embedding model) becomes a cross-encoder: it reads
"[CLS] question [SEP] sentence [SEP]" and gives one logit, "this sentence answers the
question". Each step takes a few questions, each with one answering sentence (when it has
one) and up to `negatives` others, the hardest first: those sharing most words with the
question (restatements and SQuAD 2.0's plausible-but-wrong sentences). The loss is a
softmax over one question's sentences plus a learned no-answer slot (the answering
sentence, or the slot when none answers), plus each sentence's own binary cross-entropy
so that a logit means the same across questions. News articles with questions (`news`)
join the QA sets: wire-style stories whose hard questions sit next to another year's,
official's or period's fact, and on-topic questions they do not answer. Sequences are
padded per batch, not to `max_length`. Everything is seeded; the held-out splits of
`data` are never seen.

It writes a Hugging Face folder (`save_pretrained`) and `train.json` (the settings, data
counts, loss curve); `export.py` turns that into the shipped ONNX files. It does not
evaluate or calibrate (see `calibrate.py`).
"""

from __future__ import annotations

import argparse
import json
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rag.lexical import content_words

from .data import Group, load_groups
from .news import load_news


@dataclass
class TrainConfig:
    data: str
    out: str
    epochs: float = 2.0
    negatives: int = 3  # sentences that do not answer, per question and step
    questions_per_step: int = 8
    max_length: int = 80  # word pieces of question + sentence
    lr: float = 5e-5
    warmup: float = 0.05  # share of the steps with a rising learning rate
    weight_decay: float = 0.01
    seed: int = 13
    max_minutes: float = 80.0  # stop (and save) even if the epochs are not done
    limit: int = 0  # use only this many training questions (smoke tests)
    threads: int = 2
    checkpoint_every: int = 400  # steps
    micro_batch: int = 16  # pairs per forward pass (similar lengths together)
    frozen_layers: int = 2  # lowest transformer layers kept as they are (with the embeddings)
    steps: int = 0  # train exactly this many steps (0: `epochs`, cut at `max_minutes`)
    # Folders of news articles with questions (`news.load_news`), ":"-separated; their
    # groups join the QA sets' `news_repeat` times, since they are few and are the domain.
    news: str = ""
    news_repeat: int = 2


def pick(group: Group, negatives: int, rng: random.Random) -> tuple[list[str], int]:
    """The sentences one step shows for `group` and the index of the answering one (-1:
    none answers). Hard negatives first, those sharing most words with the question; the
    rest at random."""
    words = content_words(group.question)
    hardness = {s: len(words & content_words(s)) for s in group.sentences}
    rows = list(zip(group.sentences, group.labels, strict=True))
    positives = [s for s, y in rows if y]
    others = [s for s, y in rows if not y]
    others.sort(key=lambda s: -hardness[s])
    hard = (negatives + 1) // 2
    rest = others[hard:]
    chosen = others[:hard] + rng.sample(rest, min(len(rest), negatives - hard))
    if positives:
        chosen.append(rng.choice(positives))
    rng.shuffle(chosen)
    target = next((i for i, s in enumerate(chosen) if s in positives), -1) if positives else -1
    return chosen, target


def forward(
    model: Any, tokenizer: Any, questions: list[str], sentences: list[str], config: TrainConfig
) -> Any:
    """The logits of (question, sentence) pairs, in order. Pairs run in micro-batches of
    similar length, each padded to its own longest: a step's pairs average about half of
    `max_length`, and padding every pair to the longest would double the work."""
    import torch

    enc = tokenizer(questions, sentences, truncation=True, max_length=config.max_length)
    order = sorted(range(len(questions)), key=lambda i: len(enc["input_ids"][i]))
    parts = []
    for at in range(0, len(order), config.micro_batch):
        rows = order[at : at + config.micro_batch]
        batch = tokenizer.pad(
            {k: [v[i] for i in rows] for k, v in enc.items()}, return_tensors="pt"
        )
        parts.append(model(**batch).logits.squeeze(-1))
    inverse = torch.empty(len(order), dtype=torch.long)
    inverse[torch.tensor(order)] = torch.arange(len(order))
    return torch.cat(parts)[inverse]


def step_pairs(
    batch: list[Group], rng: random.Random, negatives: int
) -> tuple[list[str], list[str], list[tuple[int, int]], list[int]]:
    """One step's pairs: questions and sentences, side by side; each group's rows among
    them as (first, past last); and the row of each group's answer among its own (-1:
    none answers)."""
    questions: list[str] = []
    sentences: list[str] = []
    rows: list[tuple[int, int]] = []
    targets: list[int] = []
    for g in batch:
        chosen, target = pick(g, negatives, rng)
        rows.append((len(sentences), len(sentences) + len(chosen)))
        questions += [g.question] * len(chosen)
        sentences += chosen
        targets.append(target)
    return questions, sentences, rows, targets


def step_loss(logits: Any, rows: list[tuple[int, int]], targets: list[int], no_answer: Any) -> Any:
    """Per group, the softmax over its sentences and the no-answer slot; plus each
    sentence's binary cross-entropy."""
    import torch

    labels = torch.zeros_like(logits)
    listwise = []
    for (a, b), t in zip(rows, targets, strict=True):
        row = torch.cat([logits[a:b], no_answer])
        listwise.append(
            torch.nn.functional.cross_entropy(
                row.unsqueeze(0), torch.tensor([t if t >= 0 else b - a])
            )
        )
        if t >= 0:
            labels[a + t] = 1.0
    return torch.stack(listwise).mean() + torch.nn.functional.binary_cross_entropy_with_logits(
        logits, labels
    )


def base_model(config: TrainConfig) -> tuple[Any, Any]:
    """The bundled model's tokenizer and the model as a one-logit classifier, its lowest
    layers and embeddings frozen."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from rag.embed import bundled_model_path

    base = bundled_model_path()
    tokenizer = AutoTokenizer.from_pretrained(base)
    model = AutoModelForSequenceClassification.from_pretrained(base, num_labels=1)
    # The lowest layers and the embeddings stay as trained for sentence similarity: the
    # reader learns in the upper layers, and each step costs a third less.
    frozen = [model.bert.embeddings, *model.bert.encoder.layer[: config.frozen_layers]]
    for module in frozen:
        module.requires_grad_(False)
    return tokenizer, model


def optimizer_for(model: Any, no_answer: Any, config: TrainConfig) -> Any:
    """AdamW over the trained weights, without decay on biases, LayerNorm and the slot."""
    import torch

    trained = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    decayed = [p for n, p in trained if "bias" not in n and "LayerNorm" not in n]
    plain = [p for n, p in trained if "bias" in n or "LayerNorm" in n]
    return torch.optim.AdamW(
        [
            {"params": decayed, "weight_decay": config.weight_decay},
            {"params": [*plain, no_answer], "weight_decay": 0.0},
        ],
        lr=config.lr,
    )


def schedule_for(optimizer: Any, config: TrainConfig, total: int, started: float) -> Any:
    """Warm-up, then linear decay to zero by step `total`, or by `max_minutes` when the
    clock runs out first (unless `steps` fixes the run's length)."""
    import torch

    timed = not config.steps

    def rate(step: int) -> float:
        elapsed = (time.monotonic() - started) / 60 / config.max_minutes if timed else 0.0
        done = max(step / total, elapsed)
        return min(done / config.warmup, max(0.0, (1 - done) / (1 - config.warmup)))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: max(rate(s), 1e-3))


def train(config: TrainConfig) -> Path:
    import torch

    torch.manual_seed(config.seed)
    torch.set_num_threads(config.threads)
    rng = random.Random(config.seed)
    groups = [g for g in load_groups(Path(config.data)) if g.split == "train"]
    for folder in filter(None, config.news.split(":")):
        groups += load_news(Path(folder), config.seed) * config.news_repeat
    rng.shuffle(groups)
    if config.limit:
        groups = groups[: config.limit]
    tokenizer, model = base_model(config)
    no_answer = torch.nn.Parameter(torch.zeros(1))
    optimizer = optimizer_for(model, no_answer, config)
    per_epoch = -(-len(groups) // config.questions_per_step)
    total = config.steps or max(1, int(per_epoch * config.epochs))
    started = time.monotonic()
    schedule = schedule_for(optimizer, config, total, started)
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    log: list[dict] = []
    model.train()
    step, pairs, window = 0, 0, []
    order: list[Group] = []
    while step < total:
        if not order:
            order = groups[:]
            rng.shuffle(order)
        batch, order = order[: config.questions_per_step], order[config.questions_per_step :]
        questions, sentences, rows, targets = step_pairs(batch, rng, config.negatives)
        logits = forward(model, tokenizer, questions, sentences, config)
        loss = step_loss(logits, rows, targets, no_answer)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
        step += 1
        pairs += len(sentences)
        window.append(loss.item())
        minutes = (time.monotonic() - started) / 60
        if step % 50 == 0 or step == total:
            mean = round(sum(window) / len(window), 4)
            log.append({"step": step, "loss": mean, "pairs": pairs, "minutes": round(minutes, 2)})
            window = []
            print(json.dumps(log[-1]), flush=True)
        over = not config.steps and minutes > config.max_minutes
        if step % config.checkpoint_every == 0 or step == total or over:
            info = {"steps_done": step, "steps_planned": total, "train_questions": len(groups)}
            save(model, tokenizer, out, config, info | {"no_answer_logit": no_answer.item()}, log)
        if over:
            break
    return out


def save(model: Any, tokenizer: Any, out: Path, config: TrainConfig, info: dict, log: list) -> None:
    """The model and tokenizer as a Hugging Face folder, and train.json beside them."""
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    record = {"config": asdict(config), **info, "log": log}
    (out / "train.json").write_text(json.dumps(record, indent=1))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    defaults = TrainConfig(data="", out="")
    parser.add_argument("--data", required=True, help="folder of the QA sets (shared/data/qa)")
    parser.add_argument("--out", required=True, help="folder for the trained model")
    for name, value in asdict(defaults).items():
        if name not in ("data", "out"):
            parser.add_argument(f"--{name.replace('_', '-')}", type=type(value), default=value)
    args = parser.parse_args(argv)
    train(TrainConfig(**vars(args)))


if __name__ == "__main__":
    main()
