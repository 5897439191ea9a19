"""A hub dataset in data.path (ORG/NAME, @SUBSET, :SPLIT): downloaded from the studio's hub through core.hub, then
read like a folder of files; its refusals said plainly."""

from __future__ import annotations

import json

import pytest

from core.data.errors import DataError
from core.data.load import load
from core.hub.datasets import DatasetRef, parse
from core.hub.settings import HubSettings, save_settings


def test_a_reference_names_the_dataset_its_subset_and_split():
    assert parse("org/chats") == DatasetRef("org/chats")
    assert parse("org/chats:test") == DatasetRef("org/chats", None, "test")
    assert parse("org/chats@zh:validation") == DatasetRef("org/chats", "zh", "validation")
    assert parse("data/train.jsonl") == DatasetRef("data/train.jsonl")  # a missing file looks like an id too
    assert parse("not an id") is None and parse("a/b/c") is None


def _rows(path, texts):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps({"instruction": t, "output": t.upper()}) + "\n" for t in texts),
                    encoding="utf-8")


@pytest.fixture
def chats(hub_home, mirror, tmp_path):
    """A dataset repository in the hub's usual layout: two subsets, each with train and test files; the studio's
    hub set to the mirror, as the Settings choice keeps it."""
    repo = tmp_path / "chats"
    _rows(repo / "en" / "train-00000-of-00001.jsonl", ["hello", "bye"])
    _rows(repo / "en" / "test-00000-of-00001.jsonl", ["test en"])
    _rows(repo / "zh" / "train-00000-of-00001.jsonl", ["你好"])
    (repo / "README.md").write_text("# chats\n", encoding="utf-8")
    mirror.add("org/chats", repo, kind="dataset")
    save_settings(HubSettings("huggingface", mirror.url))
    return mirror


def _asked(data) -> list[str]:
    return [row["messages"][0]["content"] for row in data.rows]


def test_data_path_reads_a_hub_datasets_subset_and_split(chats):
    english = load("org/chats@en")
    assert _asked(english) == ["hello", "bye"]
    assert str(english.notes[0]) == 'Loaded "org/chats" (split "train", 1 files) from the dataset hub.'
    assert _asked(load("org/chats@en:test")) == ["test en"]
    assert _asked(load("org/chats:train")) == ["hello", "bye", "你好"]

    chats.close()  # downloaded once: read offline from then on
    assert len(load("org/chats@zh").rows) == 1


def test_a_missing_split_or_dataset_is_said_plainly(chats):
    with pytest.raises(DataError, match=r"no files for split 'validation' \(subset 'en'\); its files suggest: "
                                        r"test, train\. Name the split as ORG/NAME:SPLIT"):
        load("org/chats@en:validation")
    with pytest.raises(DataError, match=r"'org/none' is not a file here, and as a hub dataset: .* has no org/none"):
        load("org/none")
