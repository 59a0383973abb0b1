"""The question adapter: one linear map of the question vector, trained so that the cheap
scorer's sentence cosine favours the sentence that answers over one that restates.

all-MiniLM-L6-v2 was trained for similarity, so a sentence restating the question lies
closer to it than the sentence answering it, and the answer can rank too low for the
reader's shortlist to hold it. `train_adapter` learns a matrix M (started at the identity
and pulled back towards it) such that cos(M q, s) ranks each answerable training question's
answering sentence first among its candidates: a softmax over the group's sentences at
temperature `tau` (`data.load_groups`, training split only). The held-out splits choose the
epoch. Sentence vectors stay as indexed (no rebuild); only the question's vector for the
cheap scorer (`rag.cheap_scorer.score_sentences`) changes. Retrieval and the abstention
features keep the plain cosine.

It writes `adapter.npy` into a reader folder, and its settings, checksum and held-out
numbers into that folder's reader.json. It does not calibrate the reader, whose cheap scores
it changes: run `python -m training.build FOLDER --data ... --trained-by ...` after it.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rag.errors import ModelError, RagError
from rag.manifest import file_sha256
from rag.reader import ADAPTER_FILE

from .data import check_data, embed_groups, load_groups

HELDOUT = ("squad-heldout", "qed-dev", "selqa-dev")


@dataclass
class AdapterConfig:
    epochs: int = 4  # the best held-out epoch is kept
    tau: float = 0.1  # softmax temperature over cosines
    lam: float = 1e-3  # weight of ||M - I||², which keeps M near the plain cosine
    lr: float = 1e-3  # Adam
    batch: int = 64  # questions per step
    seed: int = 13
    threads: int = 2


def train_adapter(folder: Path, data: Path, config: AdapterConfig) -> dict[str, Any]:
    """Train the adapter on `data` and write it into the reader folder `folder`."""
    if not (folder / "reader.json").is_file():
        raise ModelError(f"{folder} holds no exported reader (reader.json is missing).")
    import numpy as np
    import torch

    from rag.embed import DEFAULT_MODEL

    torch.manual_seed(config.seed)
    torch.set_num_threads(config.threads)
    groups = [g for g in load_groups(data) if g.answerable]
    started = time.perf_counter()
    q_vectors, s_vectors = embed_groups(groups)
    qv = torch.tensor(np.stack(list(q_vectors.values())), dtype=torch.float32)
    sv = torch.tensor(np.stack(list(s_vectors.values())), dtype=torch.float32)
    q_at = {q: i for i, q in enumerate(q_vectors)}
    s_at = {s: i for i, s in enumerate(s_vectors)}

    def pack(split: str) -> list[tuple[int, Any, Any]]:
        return [
            (
                q_at[g.question],
                torch.tensor([s_at[s] for s in g.sentences]),
                torch.tensor(g.labels, dtype=torch.bool),
            )
            for g in groups
            if g.split == split
        ]

    train, held = pack("train"), {s: pack(s) for s in HELDOUT}
    eye = torch.eye(qv.shape[1])
    matrix = torch.nn.Parameter(eye.clone())
    optimizer = torch.optim.Adam([matrix], lr=config.lr)

    def cosines(m: Any, q: int, idx: Any) -> Any:
        return sv[idx] @ torch.nn.functional.normalize(m @ qv[q], dim=0)

    def top1(m: Any) -> dict[str, float]:
        with torch.no_grad():
            return {
                split: round(
                    sum(bool(y[cosines(m, q, idx).argmax()]) for q, idx, y in rows)
                    / max(1, len(rows)),
                    4,
                )
                for split, rows in held.items()
            }

    plain = top1(eye)
    rng = np.random.default_rng(config.seed)
    best: tuple[float, int, Any, dict[str, float]] = (sum(plain.values()), -1, eye, plain)
    for epoch in range(config.epochs):
        order = rng.permutation(len(train))
        for at in range(0, len(order), config.batch):
            loss = torch.zeros(())
            for j in order[at : at + config.batch]:
                q, idx, y = train[j]
                scores = cosines(matrix, q, idx) / config.tau
                loss = loss + torch.logsumexp(scores, 0) - torch.logsumexp(scores[y], 0)
            loss = loss / config.batch + config.lam * ((matrix - eye) ** 2).sum()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        scores_now = top1(matrix.detach())
        if sum(scores_now.values()) > best[0]:
            best = (sum(scores_now.values()), epoch, matrix.detach().clone(), scores_now)
    _, epoch, chosen, adapted = best
    report = {
        "model": DEFAULT_MODEL,
        "config": asdict(config),
        "epoch_kept": epoch + 1,  # 0: no epoch beat the plain cosine (the identity)
        "train_questions": len(train),
        "minutes": round((time.perf_counter() - started) / 60, 1),
        "heldout_top1_cosine": {s: [plain[s], adapted[s]] for s in HELDOUT},
    }
    write_adapter(folder, chosen.numpy(), report)
    return report


def write_adapter(folder: Path, matrix: Any, report: dict[str, Any]) -> None:
    """`adapter.npy` into the reader folder, and its report and checksum into reader.json."""
    import numpy as np

    np.save(folder / ADAPTER_FILE, matrix.astype(np.float32))
    meta_path = folder / "reader.json"
    meta = json.loads(meta_path.read_text())
    meta["adapter"] = report
    meta["sha256"][ADAPTER_FILE] = file_sha256(folder / ADAPTER_FILE)
    meta_path.write_text(json.dumps(meta, indent=1) + "\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="Train the question adapter into an exported reader folder and record "
        "it in its reader.json; recalibrate the reader afterwards (python -m training.build)."
    )
    parser.add_argument("folder", type=Path, help="an exported reader, e.g. rag/reader/model")
    parser.add_argument("--data", type=Path, required=True, help="the QA sets (shared/data/qa)")
    for name, value in asdict(AdapterConfig()).items():
        parser.add_argument(f"--{name}", type=type(value), default=value, help=f"default {value}")
    args = vars(parser.parse_args(argv))
    folder, data = args.pop("folder"), args.pop("data")
    try:
        check_data(data)
        print(json.dumps(train_adapter(folder, data, AdapterConfig(**args)), indent=1))
    except RagError as e:
        raise SystemExit(f"error: {e}") from None


if __name__ == "__main__":
    main()
