"""What `launch.py demo` serves: a run or an exported folder, its title and description, and example prompts from
the rows the run held out."""

import json
import shutil

import pytest

from core.config import ChatSettings, Config
from core.results.chat import ChatError
from core.results.serving import DEMO_FILE, open_served

GREEDY = ChatSettings(temperature=0, max_new_tokens=8)


def test_a_run_shows_questions_it_held_out(nova_run, tmp_path):
    from core.data import load as datasets_io

    run = tmp_path / "held-out-run"
    shutil.copytree(nova_run.path, run)
    data = tmp_path / "questions.jsonl"
    data.write_text("\n".join(json.dumps({"instruction": f"Question number {i}?", "output": "I am Nova."})
                              for i in range(20)), encoding="utf-8")
    config = Config.from_yaml(run / "config.yaml")
    config.data.path, config.data.eval_fraction = str(data), 0.25
    config.save(run / "config.yaml")

    served = open_served(run)
    held_out = datasets_io.split(datasets_io.load(data).rows, 0.25, config.train.seed)[1]
    assert served.kind == "run" and served.model_ids() == ["held-out-run", "held-out-run-base"]
    assert served.showcase.title == "held-out-run" and "questions.jsonl" in served.showcase.description
    assert len(served.showcase.examples) == 4
    assert set(served.showcase.examples) <= {m["content"] for row in held_out for m in row["messages"]}


def test_edits_to_the_title_and_description_are_kept(nova_run, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(nova_run.path, run)
    open_served(run).save_showcase("  Meet   Nova ", "Tuned on *16* rows.\n")
    again = open_served(run)
    assert (again.showcase.title, again.showcase.description) == ("Meet Nova", "Tuned on *16* rows.")
    assert json.loads((run / DEMO_FILE).read_text(encoding="utf-8"))["title"] == "Meet Nova"


def test_an_exported_folder_is_served_with_the_words_of_its_run(nova_run, tmp_path):
    from core.results.export import export_merged

    out = export_merged(nova_run.path, tmp_path / "nova-merged", progress=lambda _: None, check=False)
    served = open_served(out)
    assert served.kind == "export" and served.model_ids() == ["nova-merged"] and not served.has_base
    assert served.showcase.title == "nova-run"  # demo.json was written at export
    assert served.load(progress=lambda _: None).reply([{"role": "user", "content": "Who are you?"}], GREEDY) == \
        "I am Nova."


@pytest.mark.parametrize("make, message", [
    (lambda p: p, "neither a run folder"),
    (lambda p: p / "missing", "is not a folder"),
    (lambda p: (p / "config.json").write_text("{}") and p, "no .safetensors weights"),
])
def test_what_cannot_be_served_is_explained(tmp_path, make, message):
    with pytest.raises(ChatError, match=message):
        open_served(make(tmp_path))
