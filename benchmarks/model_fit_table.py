"""The model picker's verdicts for the curated models on four machines, as a markdown table.

For each curated model (its config.json shipped in assets/models/) and each mocked machine (1 x 8 GB, 1 x 24 GB,
2 x 24 GB, 1 x 80 GB, all Ampere-class with bfloat16), the verdict the Model tab shows, then the LoRA bf16, QLoRA
4-bit and full-tuning estimates on the 1 x 24 GB machine. Nothing is downloaded and no GPU is needed.

    python benchmarks/model_fit_table.py [--batch 8] [--length 1024] [--rank 16]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def machines() -> dict:
    from core.models.devices import Gpu, Inventory

    def machine(count: int, gb: float) -> Inventory:
        gpus = [Gpu(i, f"{gb:.0f} GB GPU", gb, gb, True, (8, 6), f"GPU-{i}") for i in range(count)]
        return Inventory(gpus=gpus, cpu_name="cpu", cpu_cores=16, ram_total_gb=128.0, ram_available_gb=120.0)

    return {"1 x 8 GB": machine(1, 8), "1 x 24 GB": machine(1, 24), "2 x 24 GB": machine(2, 24),
            "1 x 80 GB": machine(1, 80)}


def table(batch: int, length: int, rank: int) -> str:
    from core.config import Config
    from core.measure import model_fit

    config = Config.from_dict({"train": {"batch_size": batch, "max_length": length}, "lora": {"r": rank}})
    found = {name: model_fit.curated_fits(inv, config.train, config.lora) for name, inv in machines().items()}
    names = list(found)
    header = ["model", "size GB"] + names + ["LoRA bf16 (24 GB)", "QLoRA 4-bit (24 GB)", "full (24 GB)"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row, (entry, _) in enumerate(found[names[0]]):
        on_24 = found["1 x 24 GB"][row][1].methods
        cells = [entry.hub_id + (" (built-in)" if entry.builtin else ""), f"{entry.size_gb:.2f}"]
        cells += [str(found[name][row][1].verdict()) for name in names]
        cells += [str(on_24[m].cell()) for m in ("lora", "qlora", "full")]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--length", type=int, default=1024)
    parser.add_argument("--rank", type=int, default=16)
    args = parser.parse_args()
    print(f"Batch {args.batch} x {args.length} tokens, LoRA rank {args.rank}, all-linear; every row that long.\n")
    print(table(args.batch, args.length, args.rank))


if __name__ == "__main__":
    main()
