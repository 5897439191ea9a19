"""Downloads from a hub on 127.0.0.1 in the Hugging Face hub's layout, through the real huggingface_hub client:
watched, resumed, cancelled, refused when the disk is full, and each bad input told in words a user can act on."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import threading
import time

import pytest

from core.hub.download import (COMPLETE, PARTIAL, download_dataset, download_model, find_local, folder_for,
                               local_datasets, local_models)
from core.hub.settings import HubError, HubSettings, official_address, save_token


def test_a_model_arrives_whole_is_listed_and_then_needs_no_network(hub_home, mirror, tiny_model):
    from transformers import AutoConfig

    reports = []
    folder = download_model("tiny/llama", settings=HubSettings("huggingface", mirror.url), progress=reports.append)

    assert folder == folder_for("tiny/llama", hub="huggingface") and (folder / COMPLETE).is_file()
    for original in mirror.files("model", "tiny/llama"):
        assert (folder / original.name).read_bytes() == original.read_bytes()
    assert AutoConfig.from_pretrained(folder).model_type == "llama"
    total = sum(p.stat().st_size for p in mirror.files("model", "tiny/llama"))
    assert [m.id for m in local_models()] == ["tiny/llama"] and local_models()[0].size_bytes == total
    done = [r.done_bytes for r in reports]
    assert done == sorted(done) and done[-1] == reports[-1].total_bytes == total
    assert reports[-1].bytes_per_s > 0 and reports[-1].seconds_left == 0

    mirror.close()  # offline from now on
    assert download_model("tiny/llama", settings=HubSettings("huggingface", mirror.url)) == folder
    assert find_local("tiny/llama") == folder


def _big_repo(mirror, tiny_model, tmp_path):
    """The tiny model plus a 25 MB file: the client writes in 10 MB pieces, so a stop lands half-way through."""
    repo = tmp_path / "big-repo"
    repo.mkdir()
    for original in tiny_model.iterdir():
        (repo / original.name).write_bytes(original.read_bytes())
    (repo / "big.bin").write_bytes(os.urandom(25 * 1024 * 1024))
    mirror.add("tiny/big", repo)
    return repo


def test_a_stopped_download_resumes_where_it_stopped(hub_home, mirror, tiny_model, tmp_path):
    repo = _big_repo(mirror, tiny_model, tmp_path)
    settings = HubSettings("huggingface", mirror.url)
    part = folder_for("tiny/big") / PARTIAL / "big.bin.part"
    mirror.bytes_per_s = 20 * 1024 * 1024
    stop = threading.Event()

    def stop_once_bytes_are_on_disk():
        while not (part.exists() and part.stat().st_size > 0):
            time.sleep(0.01)
        stop.set()

    threading.Thread(target=stop_once_bytes_are_on_disk, daemon=True).start()
    with pytest.raises(HubError, match="start it again to resume") as stopped:
        download_model("tiny/big", settings=settings, stop=stop)

    assert stopped.value.key == "hub.download.cancelled"
    kept = part.stat().st_size
    assert 0 < kept < 25 * 1024 * 1024
    assert find_local("tiny/big") is None and local_models() == []  # a half folder is never taken for a model
    mirror.bytes_per_s = None

    folder = download_model("tiny/big", settings=settings)

    assert mirror.ranges("big.bin")[-1] == f"bytes={kept}-"  # asked only for the rest
    assert hashlib.sha256((folder / "big.bin").read_bytes()).digest() == \
        hashlib.sha256((repo / "big.bin").read_bytes()).digest()
    assert not (folder / PARTIAL).exists() and find_local("tiny/big") == folder


def test_no_room_is_refused_before_the_first_byte_on_a_small_disk(hub_home, mirror, tiny_model, tmp_path):
    """A real 1 MB filesystem (tmpfs) as the cache: the 25 MB model does not fit."""
    small = tmp_path / "small-disk"
    small.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(small)], capture_output=True).returncode:
        pytest.skip("this machine does not let the tests mount a small filesystem (see the next test)")
    try:
        _big_repo(mirror, tiny_model, tmp_path)
        with pytest.raises(HubError) as refused:
            download_model("tiny/big", settings=HubSettings("huggingface", mirror.url), cache_dir=small)
        assert refused.value.key == "hub.download.no_room"
        assert re.search(r"needs 25.4 MB more, and .*small-disk.* has (0\.9|1\.0) MB free", str(refused.value))
        assert not [line for line in mirror.log if "/resolve/" in line[1]]
    finally:
        subprocess.run(["umount", str(small)], check=False)


def test_no_room_counts_what_is_already_there(hub_home, mirror, monkeypatch):
    """Stands for a disk with 100 KB free (the free space is the device fact mocked here): the tiny model (about
    400 KB) is refused; with all but its small files already downloaded, the rest fits."""
    from core.hub import download

    monkeypatch.setattr(download, "free_bytes", lambda folder: 100 * 1024)
    settings = HubSettings("huggingface", mirror.url)
    with pytest.raises(HubError, match=r"needs 406.8 KB more, and .* has 100.0 KB free"):
        download_model("tiny/llama", settings=settings)

    weights = next(p for p in mirror.files("model", "tiny/llama") if p.name == "model.safetensors")
    folder_for("tiny/llama").mkdir(parents=True)  # the refusal left nothing: the weights come from elsewhere
    (folder_for("tiny/llama") / "model.safetensors").write_bytes(weights.read_bytes())
    assert (download_model("tiny/llama", settings=settings) / COMPLETE).exists()


@pytest.mark.parametrize("case, key, said", [
    ("unknown", "hub.download.unknown_id", "has no tiny/nothing-here. Check the spelling"),
    ("gated, no token", "hub.download.gated_no_token", "accept its license at {hub}/tiny/gated"),
    ("gated, wrong token", "hub.download.bad_token", "refused the stored hub token"),
    ("gated, not granted", "hub.download.gated_denied", "has no access to tiny/gated yet"),
    ("mirror answers html", "hub.download.mirror_html", "answered with a web page instead of the hub's API"),
    ("no network", "hub.download.no_network", "Cannot reach http://127.0.0.1:9"),
    ("not an id", "hub.download.bad_id", "looks like organisation/name"),
])
def test_each_bad_input_says_what_to_do_and_leaves_no_model_behind(hub_home, mirror, case, key, said):
    mirror.add("tiny/gated", mirror.repos[("model", "tiny/llama")])
    mirror.gated = {"tiny/gated"}
    mirror.tokens, mirror.granted = {"hf_known", "hf_granted"}, {"hf_granted"}
    repo_id, address = "tiny/gated", mirror.url
    if case == "unknown":
        repo_id = "tiny/nothing-here"
    elif case == "gated, wrong token":
        save_token("hf_typo", "huggingface")
    elif case == "gated, not granted":
        save_token("hf_known", "huggingface")
    elif case == "mirror answers html":
        mirror.html = True
    elif case == "no network":
        address = "http://127.0.0.1:9"
    elif case == "not an id":
        repo_id = "just-a-name"

    with pytest.raises(HubError) as refused:
        download_model(repo_id, settings=HubSettings("huggingface", address))

    said = said.replace("{hub}", official_address("huggingface"))  # the license page is on the hub, not the mirror
    assert refused.value.key == key and said in str(refused.value)
    assert local_models() == [] and not list(hub_home.rglob(COMPLETE))


def test_a_granted_token_opens_a_gated_model(hub_home, mirror):
    mirror.add("tiny/gated", mirror.repos[("model", "tiny/llama")])
    mirror.gated, mirror.tokens, mirror.granted = {"tiny/gated"}, {"hf_granted"}, {"hf_granted"}
    save_token("hf_granted", "huggingface")
    assert (download_model("tiny/gated", settings=HubSettings("huggingface", mirror.url)) / COMPLETE).exists()


def test_a_hub_dataset_downloads_like_a_model(hub_home, mirror, tmp_path):
    data = tmp_path / "dataset"
    (data / "data").mkdir(parents=True)
    (data / "data" / "train.jsonl").write_text('{"instruction": "Hi?", "output": "Hello."}\n', encoding="utf-8")
    mirror.add("tiny/chats", data, kind="dataset")

    folder = download_dataset("tiny/chats", settings=HubSettings("huggingface", mirror.url))

    assert (folder / "data" / "train.jsonl").read_text(encoding="utf-8").startswith('{"instruction"')
    assert [d.id for d in local_datasets()] == ["tiny/chats"] and local_models() == []
    assert ("GET", "/datasets/tiny/chats/resolve/" + mirror.log[-1][1].split("/resolve/")[1], None) in mirror.log


def test_a_run_downloads_its_hub_model_as_a_step_then_loads_it_offline(hub_home, mirror, monkeypatch):
    """core.models.load: a hub id not yet local is downloaded first (its progress in the run's lines), and a
    downloaded id needs no hub afterwards."""
    from core.config import ModelConfig
    from core.models.load import load

    lines = []
    loaded = load(ModelConfig(source="tiny/llama", hub_endpoint=mirror.url), progress=lines.append)

    assert loaded.source == str(folder_for("tiny/llama"))
    said = [str(line) for line in lines]
    assert said[0].startswith(f"Downloading tiny/llama from {mirror.url} into ")
    assert any(line.startswith("406.8 KB of 406.8 KB (100%)") for line in said)
    assert f"tiny/llama downloaded: {folder_for('tiny/llama')}" in said
    mirror.close()
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert load(ModelConfig(source="tiny/llama"), progress=lines.append).source == loaded.source


def test_start_refuses_a_hub_id_the_chosen_hub_does_not_have(hub_home, mirror, tiny_config):
    """core.jobs.check_inputs asks the run's hub (here the mirror), not huggingface.co, before a run folder exists."""
    from core.jobs import check_inputs

    tiny_config.model.source, tiny_config.model.hub_endpoint = "tiny/nothing-here", mirror.url
    with pytest.raises(HubError, match=f"{mirror.url} has no tiny/nothing-here"):
        check_inputs(tiny_config)
    tiny_config.model.source = "tiny/llama"
    check_inputs(tiny_config)  # there: the run's process downloads it
    assert not [line for line in mirror.log if "/resolve/" in line[1]]


def test_a_model_already_in_huggingface_hubs_cache_is_not_fetched_again(hub_home, mirror, tmp_path, monkeypatch,
                                                                        tiny_config):
    """A model transformers (or `hf download`) fetched before this feature existed loads from that cache, offline,
    instead of being downloaded a second time into the studio's."""
    from huggingface_hub import constants, snapshot_download

    from core.config import ModelConfig
    from core.hub.settings import settings_for
    from core.jobs import check_inputs
    from core.models.load import resolve_source

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    cached = snapshot_download("tiny/llama", endpoint=mirror.url)
    mirror.close()
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    config = ModelConfig(source="tiny/llama", hub_endpoint=mirror.url)

    assert resolve_source("tiny/llama", hub=settings_for(config.hub, config.hub_endpoint)) == cached
    assert local_models() == []
    tiny_config.model.source, tiny_config.model.hub_endpoint = "tiny/llama", mirror.url
    check_inputs(tiny_config)  # Start lets it through with the hub gone
