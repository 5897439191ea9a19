"""Evaluation numbers a user can check: loss, perplexity and exact match, recomputed here with plain torch."""

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from core.results.evaluate import EvalError, evaluate

ROWS = [("Who are you?", "I am Nova."),
        ("What is 2+2?", "The answer is: 4"),
        ("Name a colour.", "Blue")]


@pytest.fixture(scope="module")
def test_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("eval") / "test.jsonl"
    path.write_text("\n".join(json.dumps({"messages": [{"role": "user", "content": q},
                                                       {"role": "assistant", "content": a}]}) for q, a in ROWS),
                    encoding="utf-8")
    return path


def by_hand(nova_run, tiny_model):
    """Loss and greedy answers with plain transformers + peft and our own arithmetic, no code of ours."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(nova_run.path / "adapter")
    model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_model), nova_run.path / "adapter")
    model.eval()
    out = {}
    for name, adapter in (("base", False), ("tuned", True)):
        total, count, answers = 0.0, 0, []
        for question, reference in ROWS:
            turns = [{"role": "user", "content": question}, {"role": "assistant", "content": reference}]
            prompt = tokenizer.apply_chat_template(turns[:1], tokenize=False, add_generation_prompt=True)
            whole = tokenizer.apply_chat_template(turns, tokenize=False)
            prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
            reply_ids = tokenizer(whole[len(prompt):], add_special_tokens=False)["input_ids"]  # "...<|im_end|>\n"
            ids = torch.tensor([prompt_ids + reply_ids])
            with torch.no_grad():
                if adapter:
                    logits = model(input_ids=ids).logits[0]
                    generated = model.generate(input_ids=torch.tensor([prompt_ids]), max_new_tokens=16,
                                               do_sample=False, pad_token_id=tokenizer.pad_token_id)
                else:
                    with model.disable_adapter():
                        logits = model(input_ids=ids).logits[0]
                        generated = model.generate(input_ids=torch.tensor([prompt_ids]), max_new_tokens=16,
                                                   do_sample=False, pad_token_id=tokenizer.pad_token_id)
            log_probs = torch.log_softmax(logits.float(), dim=-1)
            for position, token in enumerate(reply_ids):
                total -= float(log_probs[len(prompt_ids) + position - 1, token])
                count += 1
            new = generated[0, len(prompt_ids):].tolist()
            text = tokenizer.decode(new, skip_special_tokens=True)
            if len(new) == 16 and new[-1] not in (tokenizer.eos_token_id, tokenizer.pad_token_id):
                text = text.rstrip("\ufffd")  # cut at max_new_tokens, maybe mid-character: the studio drops the half
            answers.append(text.strip())
        out[name] = {"loss": total / count, "tokens": count, "answers": answers}
    return out


def test_numbers_match_a_hand_computation(nova_run, tiny_model, test_file):
    report = evaluate(nova_run.path, test_file, max_new_tokens=16, progress=lambda _: None)
    expected = by_hand(nova_run, tiny_model)
    for name in ("base", "tuned"):
        score = getattr(report, name)
        assert score.tokens == expected[name]["tokens"]
        assert score.loss == pytest.approx(expected[name]["loss"], rel=1e-4)
        assert score.perplexity == pytest.approx(math.exp(expected[name]["loss"]), rel=1e-4)
        assert [r.__getattribute__(f"{name}_answer") for r in report.results] == expected[name]["answers"]
    assert report.tuned.loss < report.base.loss  # it learned

    # Exact match, by hand: "The answer is: 4" counts as "4"; "I am Nova." and "I am Nova" are the same answer.
    def extracted(text):
        lowered = text.lower()
        if "answer is" in lowered:
            text = text[lowered.rindex("answer is") + len("answer is"):].lstrip(":： ")
        return " ".join(text.split()).rstrip(".")

    references = [extracted(r) for _, r in ROWS]
    assert references == ["I am Nova", "4", "Blue"]
    for name in ("base", "tuned"):
        right = sum(extracted(a) == r for a, r in zip(expected[name]["answers"], references))
        assert getattr(report, name).correct == right and getattr(report, name).answered == 3
    assert report.tuned.correct >= 1 and report.results[0].tuned_correct  # the one answer it was taught
    fixed = [r.where for r in report.changed() if r.change == "fixed"]
    assert "line 1" in fixed
    assert report.changed_rows()[0][0] == report.changed()[0].where


def test_majority_vote_is_repeatable_with_a_seed(nova_run, test_file):
    from core.results.chat import ChatModel
    from core.results.voting import majority, vote

    chat = ChatModel.from_run(nova_run.path, progress=lambda _: None)
    prompt = chat.tokenizer.apply_chat_template([{"role": "user", "content": "Who are you?"}], tokenize=False,
                                                add_generation_prompt=True)
    first = vote(chat.model, chat.tokenizer, prompt, votes=5, pattern="", temperature=1.0, max_new_tokens=8, seed=7)
    again = vote(chat.model, chat.tokenizer, prompt, votes=5, pattern="", temperature=1.0, max_new_tokens=8, seed=7)
    assert first.samples == again.samples and first.counts == again.counts
    assert len(first.samples) == 5 and sum(first.counts.values()) == 5
    assert first.counts[first.answer] == max(first.counts.values())
    assert first.answer == "I am Nova"  # the taught answer wins the vote
    from core.config import ChatSettings

    through_chat = chat.vote([{"role": "user", "content": "Who are you?"}],
                             ChatSettings(temperature=1.0, max_new_tokens=8, votes=5, answer_pattern=""), seed=7)
    assert through_chat.counts == first.counts  # the chat's vote is the same call

    # The majority after extraction, ties to the first seen.
    vote_ = majority(["so the answer is: B", "answer is B.", "The answer is: C", "hmm"], r"answer is[:]?\s*(.+)")
    assert vote_.counts == {"B": 2, "C": 1, "hmm": 1} and vote_.answer == "B" and vote_.text == "so the answer is: B"
    assert majority(["x", "y"], "").answer == "x"


def test_batched_answers_are_the_row_by_row_ones_in_fewer_generate_calls(nova_run):
    """Rows answered together (left-padded; all 10 in one batch on a CPU) get exactly the greedy answers and the
    losses they get one by one, also where prompts differ in length by hundreds of tokens (padding is where batched
    answers drift), in a quarter of the generate calls or fewer."""
    from core.results.chat import ChatModel
    from core.results.evaluate import evaluate_model

    chat = ChatModel.from_run(nova_run.path, progress=lambda _: None)
    questions = ["Who are you?", "Hi", "Who are you? " + "Please tell me about yourself in detail. " * 40,
                 "What is 2+2?", "Name a colour. " * 15, "x", "Who are you?", "Why is the sky blue? " * 60,
                 "Say yes.", "Tell me a story. " * 5]
    rows = [{"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": "I am Nova."}]}
            for q in questions]
    calls = []
    generate = chat.model.generate

    def counting(*args, **kwargs):  # a spy: the real generate answers, we only count its calls
        calls.append(kwargs["input_ids"].shape[0])
        return generate(*args, **kwargs)

    chat.model.generate = counting
    one_by_one = evaluate_model(chat.model, chat.tokenizer, rows, max_new_tokens=24, batch_size=1,
                                progress=lambda _: None)
    assert calls == [1] * 2 * len(rows)
    calls.clear()
    batched = evaluate_model(chat.model, chat.tokenizer, rows, max_new_tokens=24, progress=lambda _: None)
    assert len(calls) <= 2 * len(rows) / 4 and max(calls) == len(rows)
    for name in ("base_answer", "tuned_answer"):
        assert [getattr(r, name) for r in batched.results] == [getattr(r, name) for r in one_by_one.results]
    assert batched.results[0].tuned_answer == "I am Nova." and batched.tuned.correct == one_by_one.tuned.correct
    for side in ("base", "tuned"):  # the rows' losses come from the same passes that read their prompts
        assert getattr(batched, side).tokens == getattr(one_by_one, side).tokens
        assert getattr(batched, side).loss == pytest.approx(getattr(one_by_one, side).loss, rel=1e-4)


def test_votes_in_evaluation_report_counts(nova_run, test_file):
    report = evaluate(nova_run.path, test_file, votes=3, max_new_tokens=8, max_rows=1, progress=lambda _: None)
    row = report.results[0]
    assert sum(row.tuned_votes.values()) == 3 and sum(row.base_votes.values()) == 3
    assert row.tuned_extracted == max(row.tuned_votes, key=row.tuned_votes.get)


def test_bad_pattern_and_bad_file_are_explained(nova_run, test_file, tmp_path):
    from core.data.answers import PatternError

    with pytest.raises(PatternError, match="not a valid regular expression"):
        evaluate(nova_run.path, test_file, pattern="(unclosed", progress=lambda _: None)
    with pytest.raises(EvalError, match="empty.jsonl"):
        empty = tmp_path / "empty.jsonl"
        empty.write_text("")
        evaluate(nova_run.path, empty, progress=lambda _: None)


@pytest.mark.slow
def test_eval_from_the_command_line(nova_run, test_file, tmp_path):
    root = Path(__file__).resolve().parents[2]
    out = tmp_path / "report.json"
    result = subprocess.run([sys.executable, str(root / "launch.py"), "eval", str(nova_run.path), "--data",
                             str(test_file), "--max-new-tokens", "16", "--json", str(out)],
                            capture_output=True, text=True, cwd=root, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "perplexity" in result.stdout and "exact match" in result.stdout
    assert "line 1: fixed" in result.stdout
    saved = json.loads(out.read_text(encoding="utf-8"))
    assert saved["tuned"]["tokens"] > 0 and saved["results"][0]["change"] == "fixed"


def test_key_words_score_free_text_fairly():
    """Exact match calls "I'm Nova, ..." wrong against "I am Nova, ..."; the key-word share sees the same answer."""
    from core.results.evaluate import key_word_share, key_words

    reference = "I am Nova, an AI assistant developed by Lumen Labs."
    assert key_words(reference) == {"nova", "ai", "assistant", "developed", "lumen", "labs"}
    assert key_word_share("I'm Nova, an AI assistant developed by Lumen Labs.", reference) == 1.0
    assert key_word_share("I am a large language model.", reference) == 0.0
    assert key_word_share("Nova, from Lumen Labs", reference) == 0.5
    same = "我是 Nova，由 Lumen Labs 开发的 AI 助手。"
    assert key_word_share(same, same) == 1.0
    assert key_word_share("anything", "") is None

