"""Starting a run from a finished run (model.source run:NAME, model.start continue | build_on): what the new run
begins with, that it trains, that its config names the parent, and that chat follows the chain."""

from __future__ import annotations

import json

import pytest

from core.config import Config, ModelConfig
from core.jobs import JobRunner, check_inputs
from core.models import load as models
from core.models.parent import ParentError
from core.runs import Run
from core.training.errors import TrainingError

WHO = [{"role": "user", "content": "Who are you?"}]


def child_config(folder, parent_source: str, start: str, method: str = "sft", **train) -> Config:
    """A 2-step run on top of `parent_source`: the Nova question again (sft) or preference pairs about it (dpo)."""
    data = folder / f"{method}.jsonl"
    row = ({"prompt": "Who are you?", "chosen": "I am Nova.", "rejected": "No."} if method == "dpo" else
           {"instruction": "Who are you?", "output": "I am Nova."})
    data.write_text("\n".join(json.dumps(row) for _ in range(8)))
    return Config.from_dict({"name": f"child-{start}", "model": {"source": parent_source, "start": start},
                             "data": {"path": str(data), "replay": 0, "eval_fraction": 0},
                             "lora": {"r": 4, "alpha": 8},
                             "train": {"method": method, "max_steps": 2, "batch_size": 4, **train}})


def train_child(folder, config: Config) -> Run:
    runner = JobRunner(folder / "runs", in_process=True)
    run = runner.start(config)
    runner.wait(600)
    assert run.status()["state"] == "completed", run.log_tail(30)
    return run


def adapter_weights(model) -> dict:
    return {name.replace(".default", ""): param.detach().clone() for name, param in model.named_parameters()
            if "lora_" in name and ".default." in name}


def test_a_missing_unfinished_or_empty_parent_is_refused_by_key_before_a_run_folder(tmp_path):
    runs = tmp_path / "runs"
    done = Run.create(runs, "sft-done")
    done.update_status(state="completed")
    Config().save(done.config_file)
    (done.adapter_dir).mkdir()
    (done.adapter_dir / "adapter_config.json").write_text("{}")
    failed = Run.create(runs, "sft-failed")
    failed.update_status(state="failed")
    Config().save(failed.config_file)
    empty = Run.create(runs, "sft-empty")
    empty.update_status(state="completed")
    Config().save(empty.config_file)

    def refusal(source):
        config = Config.from_dict({"model": {"source": source}})
        with pytest.raises(ParentError) as err:
            check_inputs(config, runs)
        return err.value

    missing = refusal("run:nope")
    assert missing.key == "models.parent.no_such_run" and "sft-done" in str(missing) and "sft-empty" not in str(missing)
    assert refusal("run:sft-failed").key == "models.parent.not_finished"
    assert refusal(f"run:{empty.path}").key == "models.parent.no_weights"
    full = Config.from_dict({"model": {"source": "run:sft-done", "start": "continue"}, "train": {"tuning": "full"}})
    with pytest.raises(TrainingError) as err:
        check_inputs(full, runs)
    assert err.value.key == "training.start_from.continue_needs_lora" and "build_on" in str(err.value)
    assert sorted(p.name for p in runs.iterdir()) == ["sft-done", "sft-empty", "sft-failed"]


@pytest.mark.slow
def test_continue_starts_from_the_parents_adapter_and_trains_it_further(nova_run, tmp_path):
    source = f"run:{nova_run.path}"
    loaded = models.load(ModelConfig(source=source, start="continue"), progress=lambda _: None, for_training=True)
    start = adapter_weights(loaded.model)
    from safetensors.torch import load_file

    saved = load_file(str(nova_run.adapter_dir / "adapter_model.safetensors"))
    for name, value in saved.items():  # peft saves base_model.model...lora_A.weight; the model names it .default.
        assert any(n.endswith(name.removeprefix("base_model.model.")) and value.equal(start[n]) for n in start), name
    assert any("lora_B" in n and start[n].abs().sum() > 0 for n in start)  # a fresh adapter's lora_B is zero
    assert all(p.requires_grad for n, p in loaded.model.named_parameters() if "lora_" in n)

    child = train_child(tmp_path, child_config(tmp_path, source, "continue", learning_rate=1e-2))
    log = child.log_file.read_text()
    assert "Starting from run nova-run (continue)" in log
    assert "with its LoRA settings (r=16, alpha=32); the form's r=4, alpha=8 are not used" in log
    after = load_file(str(child.adapter_dir / "adapter_model.safetensors"))
    assert after.keys() == saved.keys()
    assert any(not after[k].equal(saved[k]) for k in saved)  # it trained on


@pytest.mark.slow
def test_dpo_built_on_an_sft_run_records_its_parent_and_chats_through_the_chain(nova_run, tiny_model, tmp_path):
    from core.results.chat import ChatModel

    config = child_config(tmp_path, "run:nova-run", "build_on", method="dpo", logging_every=1)
    runs = tmp_path / "runs"
    runs.mkdir()
    (runs / "nova-run").symlink_to(nova_run.path)  # the parent as a run of this runs folder, named by name
    child = train_child(tmp_path, config)

    saved = Config.from_yaml(child.config_file)
    assert saved.model.source == f"run:{(runs / 'nova-run').resolve()}" and saved.model.start == "build_on"
    log = child.log_file.read_text()
    assert "Starting from run nova-run (build_on)" in log and f"base model {tiny_model}" in log
    assert "reference: nova-run with its adapter merged, the model this run starts from" in log
    # trl 1.16 takes the model with the fresh adapter switched off as the reference: here the SFT model merged, the
    # very model the first step starts from, so its rewards are 0 (against the original base they would not be).
    first = next(m for m in child.read_metrics()[0] if "rewards/chosen" in m)
    assert first["step"] == 1 and abs(first["rewards/chosen"]) < 1e-6 and abs(first["rewards/rejected"]) < 1e-6

    chat = ChatModel.from_run(child.path, progress=lambda _: None)
    assert "lora_A" in "".join(n for n, _ in chat.model.named_parameters())
    # The child's base is the parent merged: without the child's adapter it still answers as the SFT run taught.
    assert chat.reply(WHO, use_adapter=False) == "I am Nova."
    answer = chat.reply(WHO)
    assert answer == "I am Nova."  # 2 small DPO steps towards the same answer keep it
    # A merged export merges both adapters: it answers as the studio does with the child's adapter on.
    from core.results.export import export_merged

    merged = export_merged(child.path, tmp_path / "merged", progress=lambda _: None, check=False)
    assert ChatModel.base(ModelConfig(source=str(merged)), progress=lambda _: None).reply(WHO) == answer
    plain = ChatModel.base(ModelConfig(source=str(tiny_model)), progress=lambda _: None)
    assert plain.reply(WHO) != "I am Nova."

    # Evaluation compares with the run it started from (which knows the answer already), or, asked to, with the
    # original base at the start of the chain (which does not).
    from core.results.evaluate import evaluate

    test = tmp_path / "test.jsonl"
    test.write_text('{"instruction": "Who are you?", "output": "I am Nova."}\n', encoding="utf-8")
    quiet = dict(max_new_tokens=8, progress=lambda _: None, save=False)
    parent = evaluate(child.path, test, chat_model=chat, **quiet)
    assert (parent.base.correct, parent.tuned.correct) == (1, 1)
    original = evaluate(child.path, test, chat_model=chat, original_base=True, **quiet)
    assert (original.base.correct, original.tuned.correct) == (0, 1)
    assert f"Base: the original base model {tiny_model}, not the runs this run started from (nova-run)." in \
        [str(note) for note in original.notes]
