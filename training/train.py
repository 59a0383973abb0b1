"""Train the answer-sentence reader on this machine's CPU: `rag train-reader` runs this.

all-MiniLM-L6-v2 (the bundled embedding model) becomes a cross-encoder: it reads
"[CLS] question [SEP] sentence [SEP] end of the sentence before it [SEP]" and gives one
logit, "this sentence answers the question" (`pair_text`). Each step takes a few questions,
each with one answering sentence (when it has one) and up to `negatives` others, the
hardest first: those sharing most words with the question (restatements and SQuAD 2.0's
plausible-but-wrong sentences), or with `hard_by` "cheap", those the answerer's cheap
scorer ranks highest (`cheap_hardness`: the bundled model's cosine plus word overlap), the
sentences the reader is shown when it answers. The loss is a softmax over one question's
sentences plus a learned no-answer slot (the answering sentence, or the slot when none
answers), plus each sentence's own binary cross-entropy so that a logit means the same
across questions.
With `drop_shared` > 0 some of the words a question shares with its answering sentence
are left out of it (`drop_shared`), so that the answer must be found without them.
With `entity_swap` > 0 some answerable questions are asked of another name of their
article (`data.swap_entity`), so that no sentence answers them; with `define` > 0 some
questions become "What is X?" of a name a sentence describes (`data.define_question`).
With `span_weight` > 0 a span head (`span_head`, one linear layer over the last layer's
word pieces) also learns where the answer starts and ends inside an answering sentence,
and to point at [CLS] in one that does not answer (SQuAD 2.0's null answer).
Sequences are padded per batch, not to `max_length`. Everything is seeded; the held-out
splits of `data.split` are never seen.

It writes a Hugging Face folder (`save_pretrained`), `span_head.pt` and `train.json` (the
settings, data counts, loss curve); `export.py` turns that into the shipped ONNX files. It does not
evaluate or calibrate (see `calibrate.py`).
"""

from __future__ import annotations

import argparse
import json
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from ..lexical import content_words
from . import pair_text
from .data import Group, define_question, embed_groups, load_groups, swap_entity, without_answer


@dataclass
class TrainConfig:
    data: str
    out: str
    epochs: float = 2.0
    negatives: int = 3  # sentences that do not answer, per question and step
    questions_per_step: int = 8
    max_length: int = 80  # word pieces of question + sentence (+ context)
    # Words of the sentence before, read after the sentence (`pair_text`). 0, as shipped:
    # a 85-minute run with 16 (max_length 96) scored lower on every held-out split.
    context_words: int = 0
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
    # Keep only the lowest N transformer layers (0: all six): a smaller, faster reader
    # (`rag train-reader --layers N` then freezes the lowest N // 3).
    layers: int = 0
    steps: int = 0  # train exactly this many steps (0: `epochs`, cut at `max_minutes`)
    # Share of answerable questions shown without their answering sentences, the no-answer
    # slot as target (`data.without_answer`): on-topic sentences are not an answer.
    answer_removed: float = 0.0
    # The span head's loss beside the sentence losses (0: no head, as shipped): a 78-minute
    # run with 1.0 marked short answers at SQuAD exact match 0.28 held out and chose
    # sentences no better (docs/reader.md).
    span_weight: float = 0.0
    # How the hard negatives are chosen: "words" (most words shared with the question), as
    # shipped, or "cheap" (the cheap scorer's ranking, `cheap_hardness`): a 66-minute run
    # with "cheap" picked QED's answers better held out but did worse on the project's
    # sets (BENCHMARKS.md, session 13).
    hard_by: str = "words"
    # Each question word the answering sentence shares is left out of the question with
    # this probability, each step (0: never, as shipped): news readers' questions seldom
    # restate the answer's words, and a reader leaning on shared words picks restatements.
    # A 68-minute run with 0.3 chose worse held out and on both project sets (session 16);
    # a full 2 epochs in bf16 (session 19) answered SQuAD better but not the seeds.
    drop_shared: float = 0.0
    # Share of the answerable questions asked, each time drawn, of another name or year of
    # their article, the no-answer slot as target (`data.swap_entity`; 0: never, as
    # shipped). A 54-minute bf16 run with 0.5 abstained more held out and answered the
    # seeds no better (BENCHMARKS.md, session 21).
    entity_swap: float = 0.0
    # Share of the questions replaced, each time drawn, by "What is X?" of a name one of
    # the group's sentences describes by an appositive or a copula (`data.define_question`;
    # 0: never, as shipped). A 59-minute bf16 run with 0.15 chose better held out, on
    # definition questions most, but answered both project sets worse (session 22).
    define: float = 0.0
    # "bf16": the forward pass under bfloat16 autocast (weights and optimizer stay fp32):
    # about 1.25x the pairs a second on a CPU with AVX-512 BF16, so more steps fit the budget.
    # fp32 as shipped: a 68-minute bf16 run of 2.5 epochs chose better held out but worse on
    # both project sets (BENCHMARKS.md, session 18).
    precision: str = "fp32"

    def __post_init__(self) -> None:
        if self.hard_by not in ("words", "cheap"):
            raise ValueError(f"hard_by must be words or cheap, not {self.hard_by!r}")
        if self.precision not in ("fp32", "bf16"):
            raise ValueError(f"precision must be fp32 or bf16, not {self.precision!r}")


SPAN_HEAD = "span_head.pt"


def pick(
    group: Group,
    negatives: int,
    rng: random.Random,
    answer_removed: float = 0.0,
    hardness: list[float] | None = None,
) -> tuple[list[tuple[str, str]], int, tuple[int, int] | None]:
    """The (sentence, sentence before) pairs one step shows for `group`, the index of
    the answering one (-1: none answers) and the answer's span inside it (None: unknown).
    Hard negatives first: the highest `hardness` (one per sentence of the group), else the
    most words shared with the question; the rest at random. With probability
    `answer_removed` an answerable group comes without its answering sentences."""
    if hardness is None:
        words = content_words(group.question)
        hardness = [len(words & content_words(s)) for s in group.sentences]
    of = dict(zip(zip(group.sentences, group.contexts, strict=True), hardness, strict=True))
    if answer_removed and group.answerable and rng.random() < answer_removed:
        group = without_answer(group)
    rows = list(zip(group.sentences, group.contexts, group.labels, strict=True))
    span_of = {
        (s, c): span
        for (s, c, _), span in zip(rows, group.spans or [None] * len(rows), strict=True)
    }
    positives = [(s, c) for s, c, y in rows if y]
    others = [(s, c) for s, c, y in rows if not y]
    others.sort(key=lambda s: -of[s])
    hard = (negatives + 1) // 2
    rest = others[hard:]
    chosen = others[:hard] + rng.sample(rest, min(len(rest), negatives - hard))
    if positives:
        chosen.append(rng.choice(positives))
    rng.shuffle(chosen)
    target = next((i for i, s in enumerate(chosen) if s in positives), -1) if positives else -1
    return chosen, target, span_of[chosen[target]] if target >= 0 else None


def drop_shared(question: str, answer: str, share: float, rng: random.Random) -> str:
    """`question` without some of the words it shares with `answer`: each word whose
    content word the answer holds is left out with probability `share` (`TrainConfig`)."""
    shared = content_words(question) & content_words(answer) if share else set()
    if not shared:
        return question
    kept = [w for w in question.split() if not (content_words(w) & shared and rng.random() < share)]
    return " ".join(kept) or question


def cheap_hardness(groups: list[Group]) -> list[list[float]]:
    """Per group, each sentence's cheap score as the answerer ranks it (without the
    question adapter, which is trained after the reader): the bundled model's cosine to
    the question plus the share of the question's words it holds, weighted by their
    rarity among the group's sentences (`extractive.resemblance`)."""
    from ..extractive import resemblance
    from ..lexical import idf_weights

    q_at, s_at = embed_groups(groups)
    out = []
    for g in groups:
        words = content_words(g.question)
        bags = [content_words(s) & words for s in g.sentences]
        weights = idf_weights(words, bags)
        out.append(
            [
                resemblance(float(s_at[s] @ q_at[g.question]), words, bag, weights)
                for s, bag in zip(g.sentences, bags, strict=True)
            ]
        )
    return out


def span_head(hidden: int = 384):  # type: ignore[no-untyped-def]
    """The span head: start and end logits for each word piece of the last layer."""
    import torch

    return torch.nn.Linear(hidden, 2)


def token_targets(offsets: list[tuple[int, int]], sequence_ids: list, span: tuple[int, int]):  # type: ignore[no-untyped-def]
    """The word pieces (of the pair's second text) where `span` starts and ends; None when
    truncation cut it off."""
    start = end = None
    for i, ((a, b), seq) in enumerate(zip(offsets, sequence_ids, strict=True)):
        if seq != 1 or a == b:
            continue
        if start is None and b > span[0]:
            start = i
        if a < span[1]:
            end = i
    return (start, end) if start is not None and end is not None and start <= end else None


def forward(  # type: ignore[no-untyped-def]
    model,
    head,
    tokenizer,
    questions: list[str],
    sentences: list[str],
    spans: list,
    config: TrainConfig,
):
    """The logits of (question, sentence) pairs, in order, and the span loss over those
    with a target in `spans` ((start, end) characters: an answer; "null": none; None: no
    span target). Pairs run in micro-batches of similar length, each padded to its own
    longest: a step's pairs average about half of `max_length`, and padding every pair to
    the longest would double the work."""
    import torch

    enc = tokenizer(
        questions,
        sentences,
        truncation=True,
        max_length=config.max_length,
        return_offsets_mapping=True,
    )
    targets: list[tuple[int, int] | None] = []
    for i, span in enumerate(spans):
        if span == "null":
            targets.append((0, 0))  # [CLS]: this sentence holds no answer
        elif span is not None:
            targets.append(token_targets(enc["offset_mapping"][i], enc.sequence_ids(i), span))
        else:
            targets.append(None)
    seq_ids = [[1 if s == 1 else 0 for s in enc.sequence_ids(i)] for i in range(len(questions))]
    del enc["offset_mapping"]
    order = sorted(range(len(questions)), key=lambda i: len(enc["input_ids"][i]))
    parts, span_losses = [], []
    for at in range(0, len(order), config.micro_batch):
        rows = order[at : at + config.micro_batch]
        batch = tokenizer.pad(
            {k: [v[i] for i in rows] for k, v in enc.items()}, return_tensors="pt"
        )
        out = model(**batch, output_hidden_states=head is not None)
        parts.append(out.logits.squeeze(-1))
        if head is None:
            continue
        ends = head(out.hidden_states[-1])  # batch x pieces x 2
        for j, i in enumerate(rows):
            if targets[i] is None:
                continue
            # Only [CLS] and the sentence's own word pieces may be pointed at.
            allowed = torch.zeros(ends.shape[1], dtype=torch.bool)
            allowed[0] = True
            allowed[: len(seq_ids[i])] |= torch.tensor(seq_ids[i], dtype=torch.bool)
            masked = ends[j].masked_fill(~allowed.unsqueeze(-1), -1e4)
            span_losses.append(
                torch.nn.functional.cross_entropy(masked.T, torch.tensor(targets[i]))
            )
    inverse = torch.empty(len(order), dtype=torch.long)
    inverse[torch.tensor(order)] = torch.arange(len(order))
    span_loss = torch.stack(span_losses).mean() if span_losses else torch.zeros(())
    return torch.cat(parts)[inverse], span_loss


def train(config: TrainConfig) -> Path:
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from ..embed import bundled_model_path

    torch.manual_seed(config.seed)
    torch.set_num_threads(config.threads)
    rng = random.Random(config.seed)
    groups = [g for g in load_groups(Path(config.data)) if g.split == "train"]
    rng.shuffle(groups)
    if config.limit:
        groups = groups[: config.limit]
    # Keyed by identity: groups of one paragraph share their question text.
    hardness = cheap_hardness(groups) if config.hard_by == "cheap" else [None] * len(groups)
    hard_of = {id(g): h for g, h in zip(groups, hardness, strict=True)}
    base = bundled_model_path()
    tokenizer = AutoTokenizer.from_pretrained(base)
    model = AutoModelForSequenceClassification.from_pretrained(base, num_labels=1)
    if config.layers:
        model.bert.encoder.layer = model.bert.encoder.layer[: config.layers]
        model.config.num_hidden_layers = config.layers
    # The lowest layers and the embeddings stay as trained for sentence similarity: the
    # reader learns in the upper layers, and each step costs a third less.
    frozen = [model.bert.embeddings, *model.bert.encoder.layer[: config.frozen_layers]]
    for module in frozen:
        module.requires_grad_(False)
    no_answer = torch.nn.Parameter(torch.zeros(1))
    head = span_head(model.config.hidden_size) if config.span_weight else None
    trained = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    if head is not None:
        trained += [(f"span.{n}", p) for n, p in head.named_parameters()]
    decayed = [p for n, p in trained if "bias" not in n and "LayerNorm" not in n]
    plain = [p for n, p in trained if "bias" in n or "LayerNorm" in n]
    optimizer = torch.optim.AdamW(
        [
            {"params": decayed, "weight_decay": config.weight_decay},
            {"params": [*plain, no_answer], "weight_decay": 0.0},
        ],
        lr=config.lr,
    )
    per_epoch = -(-len(groups) // config.questions_per_step)
    total = config.steps or max(1, int(per_epoch * config.epochs))
    timed = not config.steps
    started = time.monotonic()

    def progress(step: int) -> float:
        """Share of the run done: by steps, or by time when the clock runs out first (the
        learning rate then still decays to zero by `max_minutes`)."""
        elapsed = (time.monotonic() - started) / 60 / config.max_minutes if timed else 0.0
        return max(step / total, elapsed)

    def rate(step: int) -> float:
        done = progress(step)
        return min(done / config.warmup, max(0.0, (1 - done) / (1 - config.warmup)))

    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: max(rate(s), 1e-3))
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
        questions: list[str] = []
        sentences: list[str] = []
        spans: list[tuple[int, int]] = []
        targets: list[int] = []
        answer_spans: list[tuple[int, int] | str | None] = []
        for g in batch:
            hard = hard_of[id(g)]
            if config.entity_swap and g.answerable and rng.random() < config.entity_swap:
                swapped = swap_entity(g, rng)
                if swapped:  # fewer sentences: its negatives are ranked by shared words
                    g, hard = swapped, None
            if config.define and rng.random() < config.define:
                defined = define_question(g, rng)
                if defined:  # its hardest negatives: the other sentences naming X
                    g, hard = defined, None
            chosen, target, answer_span = pick(
                g, config.negatives, rng, config.answer_removed, hard
            )
            spans.append((len(sentences), len(sentences) + len(chosen)))
            question = g.question
            if target >= 0:
                question = drop_shared(question, chosen[target][0], config.drop_shared, rng)
            questions += [question] * len(chosen)
            sentences += [pair_text(s, c, config.context_words) for s, c in chosen]
            targets.append(target)
            answer_spans += [answer_span if i == target else "null" for i in range(len(chosen))]
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=config.precision == "bf16"):
            logits, span_loss = forward(
                model, head, tokenizer, questions, sentences, answer_spans, config
            )
        logits, span_loss = logits.float(), span_loss.float()
        labels = torch.zeros_like(logits)
        listwise = []
        for (a, b), t in zip(spans, targets, strict=True):
            row = torch.cat([logits[a:b], no_answer])
            listwise.append(
                torch.nn.functional.cross_entropy(
                    row.unsqueeze(0), torch.tensor([t if t >= 0 else b - a])
                )
            )
            if t >= 0:
                labels[a + t] = 1.0
        loss = (
            torch.stack(listwise).mean()
            + torch.nn.functional.binary_cross_entropy_with_logits(logits, labels)
            + config.span_weight * span_loss
        )
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
            log.append(
                {
                    "step": step,
                    "loss": round(sum(window) / len(window), 4),
                    "pairs": pairs,
                    "minutes": round(minutes, 2),
                }
            )
            window = []
            print(json.dumps(log[-1]), flush=True)
        over = timed and minutes > config.max_minutes
        if step % config.checkpoint_every == 0 or step == total or over:
            _save(
                model, head, tokenizer, no_answer.item(), out, config, log, step, total, len(groups)
            )
        if over:
            break
    return out


def _save(
    model,
    head,
    tokenizer,
    no_answer: float,
    out: Path,
    config: TrainConfig,
    log: list,
    step: int,
    total: int,
    questions: int,
) -> None:  # type: ignore[no-untyped-def]
    import torch

    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    if head is not None:
        torch.save(head.state_dict(), out / SPAN_HEAD)
    info = {
        "config": asdict(config),
        "steps_done": step,
        "steps_planned": total,
        "train_questions": questions,
        "no_answer_logit": no_answer,
        "log": log,
    }
    (out / "train.json").write_text(json.dumps(info, indent=1))


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
