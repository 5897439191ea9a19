"""grpo's rewards check each sampled answer as a user would: the right answer in the right place, the format
asked for, a length that finishes; bad settings are refused before any model loads, naming what to fix."""

import pytest

from core.config import Config
from core.training import rewards
from core.training.errors import TrainingError


def grpo(**train) -> Config:
    return Config.from_dict({"train": {"method": "grpo", **train}})


def scores(config: Config, texts: list[str], references: list[str], lengths=None):
    logged = {}
    scorer = rewards.Rewards(config.train)
    batch = scorer.score(["q"] * len(texts), texts, lengths and [[0] * n for n in lengths], references,
                         log_metric=logged.__setitem__)
    return scorer, batch, logged


def test_answer_and_format_rewards_check_what_a_reader_would():
    texts = ["7 + 5 = 12. The answer is 12.", "The answer is **12**", "答案是：12", "The answer is 13.",
             "12", "The answer is 12.\nHope this helps!"]
    references = ["The answer is 12.", "12", "答案是：12", "The answer is 12.", "The answer is 12.", "12"]
    scorer, batch, logged = scores(grpo(), texts, references)
    assert batch.values["answer"] == [1.0, 1.0, 1.0, 0.0, 0.0, 1.0]  # a bare "12" is never guessed as an answer
    assert batch.values["format"] == [1.0, 1.0, 1.0, 1.0, 0.0, 0.0]  # the answer line must come last
    assert [scorer.total(batch, i) for i in range(2)] == [1.5, 1.5]  # answer weight 1 + format weight 0.5
    assert logged == {"share/correct": 4 / 6, "share/well_formed": 4 / 6, "share/correct_and_formed": 3 / 6}


def test_the_length_reward_is_a_soft_penalty_past_the_limit():
    _, batch, _ = scores(grpo(rewards=["length"], length_limit=10), ["a", "b", "c"], ["x"] * 3, lengths=[8, 15, 40])
    assert batch.values["length"] == [0.0, -0.5, -1.0]


def test_think_then_answer_and_a_format_of_ones_own():
    _, batch, _ = scores(grpo(format_pattern="think_then_answer"),
                         ["<think>5 and 7 make 12</think>\nThe answer is 12", "The answer is 12"], ["12", "12"])
    assert batch.values["format"] == [1.0, 0.0]
    _, batch, _ = scores(grpo(format_pattern=r"[A-D]"), ["B", "B because"], ["B", "B"])
    assert batch.values["format"] == [1.0, 0.0]


def test_a_pattern_that_never_finds_the_references_answers_is_refused_with_an_example():
    rows = [{"messages": [{"role": "user", "content": f"Q{i}"},
                          {"role": "assistant", "content": f"Let me work it out step by step, and so it is {i}."}]}
            for i in range(3)]
    with pytest.raises(TrainingError) as refused:
        rewards.check(grpo().train, rows, "sums.jsonl")
    said = str(refused.value)
    assert "finds no answer in any of the 3 reference answers of sums.jsonl" in said and "step by step" in said
    bare = [{"prompt": "2+2=", "completion": "4"}]
    rewards.check(grpo().train, bare, "bare.jsonl")  # a bare answer is its own answer: nothing to refuse
    with pytest.raises(TrainingError, match="not a valid regular expression"):
        rewards.check(grpo(answer_pattern="(unclosed").train, bare, "bare.jsonl")


def test_a_reward_file_runs_only_when_the_user_turns_its_code_on(tmp_path):
    code = tmp_path / "my_reward.py"
    code.write_text("def reward(completions, references, **kwargs):\n"
                    "    return [1.0 if 'please' in c else 0.0 for c in completions]\n")
    with pytest.raises(TrainingError, match="runs only when you turn on 'Run code from the reward file'"):
        rewards.check(grpo(reward_file=str(code)).train, [{"prompt": "a", "completion": "b"}], "d.jsonl")
    config = grpo(rewards=[], reward_file=str(code), run_reward_code=True)
    scorer, batch, _ = scores(config, ["yes please", "no"], ["x", "x"])
    assert scorer.names == ["file"] and batch.values["file"] == [1.0, 0.0]
    code.write_text("def reward(completions, **kwargs):\n    return [1.0]\n")
    with pytest.raises(TrainingError, match="returned 1 numbers for 2 completions"):
        scores(config, ["a", "b"], ["x", "x"])
    code.write_text("x = 1\n")
    with pytest.raises(TrainingError, match="has no function named reward"):
        rewards.Rewards(config.train)
    with pytest.raises(TrainingError, match="does not exist"):
        rewards.Rewards(grpo(reward_file=str(tmp_path / "gone.py"), run_reward_code=True).train)


def test_grpo_settings_that_cannot_train_are_refused_with_numbers_that_would():
    from core.config import ConfigError

    with pytest.raises(ConfigError) as refused:
        grpo(batch_size=6, num_generations=4)
    assert "(batch_size 6 x grad_accum 1 = 6) must be a multiple of 4" in str(refused.value)
    assert "Set batch_size to 4 / 8, or num_generations to one of 2, 3, 6" in str(refused.value)
    with pytest.raises(ConfigError, match="each item must be one of: answer, format, length"):
        grpo(rewards=["answer", "speed"])
    with pytest.raises(ConfigError, match="grpo needs at least one reward"):
        grpo(rewards=[])


def test_repeating_the_instruction_is_not_the_format():
    _, batch, _ = scores(grpo(), ['End with the sentence "The answer is" and the city.', "最后一句写“答案是：”",
                                  "The answer is Paris."], ["Paris", "巴黎", "Paris"])
    assert batch.values["format"] == [0.0, 0.0, 1.0]
