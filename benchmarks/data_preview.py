"""How fast the Data tab's preview of a large file appears, and how much memory it takes.

Writes a JSONL file of the given size (alpaca rows of varied length), then times what the studio does when it is
picked: read the first 5,000 rows, and check them with the default model's tokenizer (warnings, lengths; the first
2,000). Prints the seconds and the peak resident memory, against the file's size. Three runs; medians.

    python benchmarks/data_preview.py [--gb 2] [--keep PATH]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PREVIEW_ROWS = 5000


def write_file(path: Path, gigabytes: float) -> None:
    rng = random.Random(0)
    lines = [json.dumps({"instruction": f"Question {i}: " + "why " * rng.randint(3, 40),
                         "output": "Because " + "it is so. " * rng.randint(5, 400)}) + "\n" for i in range(2000)]
    block = "".join(lines).encode()
    with open(path, "wb") as file:
        while file.tell() < gigabytes * 2**30:
            file.write(block)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gb", type=float, default=2.0)
    parser.add_argument("--model", default="default")
    args = parser.parse_args()
    from core.data import check as data_check
    from core.data import load as datasets_io
    from core.models import load as models

    tokenizer, _ = models.load_tokenizer(models.resolve_source(args.model, progress=print))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "big.jsonl"
        started = time.perf_counter()
        write_file(path, args.gb)
        print(f"wrote {path.stat().st_size / 2**30:.2f} GiB in {time.perf_counter() - started:.1f} s")
        base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        reads, checks = [], []
        for _ in range(3):
            started = time.perf_counter()
            loaded = datasets_io.load(path, limit=PREVIEW_ROWS)
            reads.append(time.perf_counter() - started)
            started = time.perf_counter()
            report = data_check.check(loaded.rows, tokenizer, max_length=1024)
            checks.append(time.perf_counter() - started)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"rows previewed: {len(loaded.rows):,} (complete: {loaded.complete}); warnings: "
          + ", ".join(f"{w.kind} ({len(w.rows)})" for w in report.warnings))
    print(f"read first {PREVIEW_ROWS:,} rows: median {statistics.median(reads):.2f} s")
    print(f"check them (tokenize, warnings, lengths): median {statistics.median(checks):.2f} s")
    print(f"peak resident memory: {peak:.0f} MB ({peak - base_rss:+.0f} MB over the process before reading; "
          f"the file is {args.gb * 1024:.0f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
