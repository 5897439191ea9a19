"""A hub dataset as data.path names it: ORG/NAME, with an optional subset (@SUBSET) and split (:SPLIT), and the
files of that subset and split in its downloaded repository, found by the layouts hub datasets use:
`data/train-00000-of-00001.parquet`, `<subset>/train-*.parquet`, `train.jsonl`, `<split>/...`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

DATASET_REF = re.compile(r"^(?P<id>[A-Za-z0-9][\w.-]*/[\w.-]+?)(?:@(?P<subset>[\w.-]+))?(?::(?P<split>[\w.-]+))?\Z")


@dataclass(frozen=True)
class DatasetRef:
    id: str
    subset: str | None = None
    split: str | None = None  # None: 'train' when the repository has one, else every data file


def parse(text: str) -> DatasetRef | None:
    """'ORG/NAME[@SUBSET][:SPLIT]' -> its parts; None for anything else (a path)."""
    match = DATASET_REF.match(text)
    if not match:
        return None
    return DatasetRef(match["id"], match["subset"], match["split"])


def split_files(folder: Path, ref: DatasetRef, extensions: tuple[str, ...]) -> list[Path]:
    """The data files of the reference's subset and split, in name order; [] when none match."""
    files = [p for p in sorted(folder.rglob("*")) if p.is_file() and p.name.lower().endswith(extensions)
             and not any(part.startswith(".") for part in p.relative_to(folder).parts)]
    if ref.subset:
        files = [p for p in files if ref.subset in p.relative_to(folder).parts[:-1]]
    split = ref.split or "train"
    chosen = [p for p in files if _is_split(p.relative_to(folder), split)]
    if not chosen and ref.split is None:
        return files  # a repository of plain files with no split in their names: all of it is the data
    return chosen


def _is_split(relative: Path, split: str) -> bool:
    stem = relative.name.split(".")[0].lower()
    return stem == split or stem.startswith((f"{split}-", f"{split}_")) or split in relative.parts[:-1]


def splits_in(folder: Path, extensions: tuple[str, ...]) -> list[str]:
    """The split names the files suggest (for the message when the asked one is not there)."""
    names = set()
    for path in folder.rglob("*"):
        if path.is_file() and path.name.lower().endswith(extensions) and not path.name.startswith("."):
            names.add(re.split(r"[-_.]", path.name)[0])
    return sorted(names)
