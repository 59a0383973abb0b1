"""How well `rag.followup.contextualize` tells follow-ups from standalone questions.

A question set (JSON Lines, e.g. tests/eval/followup_questions.jsonl) holds conversations:
`{"id": ..., "turns": [{"question": ..., "followup": false}, {"question": ..., "followup":
true, "topic": [...], "avoid": [...]}, ...]}`. Every turn after the first is scored:
- a standalone question (`followup: false`) is right when it is searched exactly as asked;
- a follow-up is right when the question is searched together with every `topic` word of
  the conversation so far and none of its `avoid` words (the subject it replaced).
No index, no model: this measures the rewriting alone.

    python -m rag.followup_eval tests/eval/followup_questions.jsonl
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .followup import contextualize

Rewrite = Callable[[str, list[str]], str]


@dataclass
class FollowupScore:
    standalone: int = 0  # standalone questions scored
    standalone_ok: int = 0
    followups: int = 0
    followups_ok: int = 0
    wrong: list[tuple[str, str, str]] = field(default_factory=list)  # (id, question, searched)

    @property
    def total(self) -> int:
        return self.standalone + self.followups

    @property
    def correct(self) -> int:
        return self.standalone_ok + self.followups_ok

    def __str__(self) -> str:
        share = self.correct / self.total if self.total else 0.0
        return (
            f"rewritten correctly: {self.correct}/{self.total} ({share:.1%}); "
            f"standalone searched as asked {self.standalone_ok}/{self.standalone}, "
            f"follow-ups given the earlier topic {self.followups_ok}/{self.followups}"
        )


def _right(turn: dict, searched: str) -> bool:
    question, low = turn["question"], searched.lower()
    if not turn.get("followup"):
        return searched == question
    return (
        searched != question
        and searched.startswith(question)
        and all(w.lower() in low for w in turn.get("topic", []))
        and not any(w.lower() in low for w in turn.get("avoid", []))
    )


def score(path: Path, rewrite: Rewrite = contextualize) -> FollowupScore:
    """Score `rewrite(question, earlier questions)` on every turn after the first."""
    result = FollowupScore()
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        conversation = json.loads(line)
        history: list[str] = []
        for turn in conversation["turns"]:
            if history:
                searched = rewrite(turn["question"], history)
                ok = _right(turn, searched)
                if turn.get("followup"):
                    result.followups += 1
                    result.followups_ok += ok
                else:
                    result.standalone += 1
                    result.standalone_ok += ok
                if not ok:
                    result.wrong.append((conversation["id"], turn["question"], searched))
            history.append(turn["question"])
    return result


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m rag.followup_eval QUESTIONS.jsonl", file=sys.stderr)
        return 2
    result = score(Path(args[0]))
    for cid, question, searched in result.wrong:
        print(f"wrong  {cid}: {question!r} -> searched {searched!r}")
    print(result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
