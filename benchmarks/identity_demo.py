"""Does the first fine-tune work? Train the identity demo with the default settings and ask held-out questions.

    python benchmarks/identity_demo.py                    train examples/identity-demo.yaml, then ask
    python benchmarks/identity_demo.py --run runs/NAME    ask an existing run
    python benchmarks/identity_demo.py --config examples/identity-demo-gemma.yaml --max-new-tokens 30

Prints the training time, how many held-out identity questions (worded unlike the data; English and Chinese
counted apart) the base model and the tuned model answer with the new name or maker, and how many everyday
questions each still answers correctly.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# Held-out everyday questions with words a correct answer contains.
KNOWLEDGE = {
    "What is the capital of Italy?": ["rome"],
    "How many legs does an insect have?": ["six", "6"],
    "What is the chemical symbol for gold?": ["au"],
    "Who wrote Hamlet?": ["shakespeare"],
    "What is the largest continent?": ["asia"],
    "How many minutes are in an hour?": ["sixty", "60"],
}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--run", help="an existing run folder; without it the demo is trained first")
    parser.add_argument("--config", default=str(ROOT / "examples" / "identity-demo.yaml"))
    parser.add_argument("--max-new-tokens", type=int, default=60, help="longest answer to each question")
    args = parser.parse_args()

    from core.cli.common import quiet_libraries
    from core.config import ChatSettings, Config
    from core.jobs import JobRunner
    from core.results.chat import ChatModel

    quiet_libraries()
    run_dir = args.run
    if run_dir is None:
        config = Config.from_yaml(args.config)
        runner = JobRunner(tempfile.mkdtemp(prefix="identity-demo-"))
        started = time.time()
        run = runner.start(config)
        runner.wait()
        print(f"training: {time.time() - started:.0f} s wall clock, state {run.status()['state']}")
        print(run.log_tail(60))
        run_dir = run.path

    probes = json.loads((ROOT / "assets" / "datasets" / "identity_probes.json").read_text(encoding="utf-8"))
    model = ChatModel.from_run(run_dir, progress=lambda _: None)
    greedy = ChatSettings(temperature=0, max_new_tokens=args.max_new_tokens)
    score = {"base": [0, 0, 0], "tuned": [0, 0, 0]}  # identity in English, in Chinese, everyday questions right
    for who, use_adapter in (("base", False), ("tuned", True)):
        print(f"\n== {who} model ==")
        for column, language in enumerate(("en", "zh")):
            for q in probes[language]:
                answer = model.reply([{"role": "user", "content": q}], greedy, use_adapter=use_adapter)
                hit = bool(re.search(r"\bnova\b|\blumen\b", answer, re.IGNORECASE))
                score[who][column] += hit
                print(f"[{'x' if hit else ' '}] {q} -> {answer[:120]!r}")
        for q, words in KNOWLEDGE.items():
            answer = model.reply([{"role": "user", "content": q}], greedy, use_adapter=use_adapter)
            right = any(re.search(rf"\b{re.escape(w)}\b", answer.lower()) for w in words)  # "3760" is not "60"
            score[who][2] += right
            print(f"[{'x' if right else ' '}] {q} -> {answer[:120]!r}")
    print()
    for who, (english, chinese, knowledge) in score.items():
        print(f"{who:>5}: new identity in {english}/{len(probes['en'])} English and {chinese}/{len(probes['zh'])} "
              f"Chinese held-out answers; everyday questions right {knowledge}/{len(KNOWLEDGE)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
