"""The model picker's handlers (Model tab and Quick start) and the hub settings on tab 3: the curated list with its
fit on this machine, the picked model's line (gated: where to accept the license), a download from a loopback hub
watched to the end and then listed, and the hub choice and token kept where they belong (never shown back)."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest


from core.catalogue.language import speaking
from core.config import Config
from core.hub import download, settings
from core.models.devices import Gpu, Inventory
from tests.hub.conftest import hub_home, mirror  # noqa: F401 - the loopback hub and a cache of the test's own
from webui import hub_settings, model_picker, tab_model


def one_gpu(gb: float) -> Inventory:
    """Stands for a machine with one Ampere-class GPU of `gb` GB, all free (what nvidia-smi would list)."""
    return Inventory(gpus=[Gpu(0, "GPU", gb, gb, True, (8, 6), "GPU-0")], ram_total_gb=64.0, ram_available_gb=60.0)


def handlers(downloader=None) -> model_picker.PickerHandlers:
    ui = SimpleNamespace(**{name: name for name in ("models", "assumptions", "picked", "status", "bar", "timer")})
    form = SimpleNamespace(fields={"model.source": "source"}, config_from=lambda values: Config())
    return model_picker.PickerHandlers(ui, form, downloader or model_picker.Downloader(), tab_model.local_model_folders)


def test_the_picker_lists_every_curated_model_with_its_fit_in_the_pages_language():
    table = model_picker.table(Config(), one_gpu(24))
    rows = {row[0]: row for row in table["data"]}
    assert len(rows) == 26 and table["headers"][1] == "on this machine"
    assert rows["Qwen/Qwen2.5-7B-Instruct"][1:6] == ["fits on GPU 0", "15.2 GB", "Apache-2.0", "no",
                                                     "chatml (qwen2.5)"]
    assert [rows["Qwen/Qwen2.5-14B-Instruct"][i] for i in (1, 6)] == ["fits in 4-bit", "✗ 35.8 GB"]
    assert rows["meta-llama/Llama-3.1-8B-Instruct"][4] == "yes"
    assert rows["SmolLM2-135M-Instruct (built-in)"][1] == "fits on GPU 0"
    with speaking("zh"):
        table = model_picker.table(Config(), one_gpu(8))
        zh = {row[0]: row for row in table["data"]}
    assert table["headers"][1] == "在这台机器上" and zh["Qwen/Qwen2.5-7B-Instruct"][1] == "这台机器放不下"
    assert zh["SmolLM2-135M-Instruct（内置）"][1] == "GPU 0 上放得下（需开启梯度检查点）"


def test_a_clicked_row_becomes_the_base_model():
    picked = handlers().pick(SimpleNamespace(index=[5, 0]))
    assert picked["source"]["value"] == "Qwen/Qwen2.5-7B-Instruct"
    assert handlers().pick(SimpleNamespace(index=[0, 3]))["source"]["value"] == "default"  # the built-in by name


def test_a_gated_model_without_a_token_says_where_to_accept_its_license(hub_home):  # noqa: F811
    line = model_picker.picked_text("meta-llama/Llama-3.1-8B-Instruct", Config(), one_gpu(24))
    assert "**meta-llama/Llama-3.1-8B-Instruct**: 16.1 GB on disk, Llama 3.1 Community License; fits on GPU 0." \
        in line
    assert f"accept its license at {settings.official_address('huggingface')}/meta-llama/Llama-3.1-8B-Instruct" in line
    settings.save_token("hf_test_token")
    assert "accept its license" not in model_picker.picked_text("meta-llama/Llama-3.1-8B-Instruct", Config(),
                                                                one_gpu(24))
    assert "accept" not in model_picker.picked_text("Qwen/Qwen3-8B", Config(), one_gpu(24))  # not gated
    assert model_picker.picked_text("/some/folder", Config(), one_gpu(24)) == ""


@pytest.mark.slow  # a loopback hub server
def test_a_download_from_the_loopback_hub_is_watched_to_the_end_and_then_listed(hub_home, mirror):  # noqa: F811
    settings.save_settings(settings.HubSettings("huggingface", mirror.url))
    mirror.bytes_per_s = 400_000  # slow enough to see the bar move
    picker = handlers()
    started = picker.start("tiny/llama")
    assert started["status"] == "Starting the download of tiny/llama ..." and started["timer"].active
    seen = []
    for _ in range(600):
        update = picker.tick()
        seen.append(update["bar"])
        if "status" in update:
            break
        time.sleep(0.1)
    assert any('<progress id="download-bar" value="0.' in bar for bar in seen)  # part-way, with bytes and speed
    assert any(" of " in bar and "/s" in bar and "left" in bar for bar in seen)
    folder = download.find_local("tiny/llama")
    assert update["status"] == f"tiny/llama downloaded: {folder}"
    assert update["source"]["value"] == "tiny/llama"
    assert ("tiny/llama (downloaded)", "tiny/llama") in update["source"]["choices"]
    assert update["timer"].active is False


@pytest.mark.slow  # a loopback hub server
def test_a_cancelled_download_says_it_can_resume(hub_home, mirror):  # noqa: F811
    settings.save_settings(settings.HubSettings("huggingface", mirror.url))
    mirror.bytes_per_s = 50_000
    picker = handlers()
    picker.start("tiny/llama")
    time.sleep(1.0)
    assert picker.cancel()["status"].startswith("Download stopped. What was downloaded is kept")
    for _ in range(100):
        update = picker.tick()
        if "status" in update:
            break
        time.sleep(0.1)
    assert update["status"].startswith("**Download stopped.")
    assert download.find_local("tiny/llama") is None  # no half folder taken for a model


def test_nothing_to_download_for_a_built_in_or_nothing_picked():
    picker = handlers()
    assert picker.start("default")["status"].startswith("default is not a hub id")
    assert picker.start("")["status"].startswith("Pick a model in the list")


@pytest.mark.slow  # a loopback hub server
def test_hub_settings_are_kept_and_the_token_is_stored_but_never_shown_back(hub_home, mirror):  # noqa: F811
    ui = SimpleNamespace(**{name: name for name in ("hub", "endpoint", "token", "status")})
    panel = hub_settings.HubSettingsHandlers(ui)
    answer = panel.save("mirror", mirror.url + "/", "hf_secret_value")
    assert answer["token"] == "" and answer["status"] == \
        f"Kept: downloads come from {mirror.url}. A hub token is stored for Hugging Face."
    assert settings.load_settings() == settings.HubSettings("huggingface", mirror.url)
    assert settings.token_for("huggingface") == "hf_secret_value"
    shown = panel.shown()
    assert shown["hub"]["value"] == "mirror" and shown["endpoint"] == mirror.url and shown["token"] == ""
    assert "hf_secret_value" not in str(shown) and "hf_secret_value" not in settings.settings_path().read_text()
    assert panel.save("mirror", "", "")["status"].startswith("**Type the mirror's address")
    assert panel.forget("mirror")["status"] == "No hub token is stored for Hugging Face."
    with speaking("zh"):
        assert panel.save("modelscope", "", "")["status"].startswith(
            f"已保存：今后从 {settings.official_address('modelscope')} 下载。")
    assert settings.load_settings().hub == "modelscope"
    # The Model tab's model.hub follows what is kept, so the next run downloads from there too.
    following = hub_settings.HubSettingsHandlers(ui, run_hub="run_hub")
    assert following.save("huggingface", "", "")["run_hub"] == "huggingface"


def test_the_base_model_list_offers_downloads_folders_and_the_curated_models(hub_home, monkeypatch, tmp_path):  # noqa: F811,E501
    choices = tab_model.local_model_folders()
    assert choices[:2] == [("SmolLM2-135M-Instruct (built-in)", "default"), ("gemma-3-270m (built-in)", "gemma-3-270m")]
    assert ("Qwen/Qwen2.5-7B-Instruct · 15.2 GB", "Qwen/Qwen2.5-7B-Instruct") in choices
    assert len({value for _, value in choices}) == len(choices)


def test_a_finished_run_picked_as_the_base_is_told_by_what_it_trained_and_what_it_stands_on(tmp_path):
    """The note under the picker stayed empty for run:NAME: the user could not see what the run was."""
    from tests.webui.test_tab_model import finished_run

    runs = tmp_path / "runs"
    cpt = finished_run(runs, "cpt-run", method="cpt", eval_loss=None)
    sft = finished_run(runs, "sft-run")
    config = Config.from_yaml(sft.config_file)
    config.model.source = f"run:{cpt.path}"  # as a run records its parent: by folder
    config.save(sft.config_file)
    ui = SimpleNamespace(picked="picked")
    form = SimpleNamespace(fields={"model.source": "source"}, config_from=lambda values: Config())
    picker = model_picker.PickerHandlers(ui, form, None, None, runs_dir=runs)
    note = picker.describe({"source": "run:sft-run"})["picked"]
    assert note == ("Finished run **sft-run**: sft on identity.jsonl, final held-out loss 0.412. The base model at "
                    "the bottom of its chain: **default**, through the runs cpt-run.")
    assert "no held-out loss" in picker.describe({"source": f"run:{cpt.path}"})["picked"]
    with speaking("zh"):
        assert picker.describe({"source": "run:sft-run"})["picked"] == (
            "已完成的运行 **sft-run**：在 identity.jsonl 上进行 sft，最终留出集损失 0.412。其链条最底层的基础模型："
            "**default**，中间经过运行 cpt-run。")
    assert "There is no run 'gone'" in picker.describe({"source": "run:gone"})["picked"]
