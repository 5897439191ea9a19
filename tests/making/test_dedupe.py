"""ROUGE-L near-duplicates with rouge-score's scorer and a tokenizer that sees Chinese characters."""

from __future__ import annotations

from rouge_score import rouge_scorer

from core.making.dedupe import CjkTokenizer, NearDuplicates


def test_plain_rouge_score_sees_no_chinese_which_is_why_the_tokenizer_is_ours():
    plain = rouge_scorer.RougeScorer(["rougeL"]).score("请写一首关于秋天的诗", "请写一首关于秋天的诗")
    assert plain["rougeL"].fmeasure == 0  # an exact Chinese copy scores 0: every duplicate would be kept
    assert CjkTokenizer().tokenize("请写一首诗 about Autumn_leaves 2") == ["请", "写", "一", "首", "诗", "about",
                                                                        "autumn", "leaves", "2"]


def test_chinese_and_english_near_duplicates_are_found_and_new_texts_are_not():
    seen = NearDuplicates(0.7, ["请写一首关于秋天的诗", "Write a short poem about autumn leaves."])
    assert seen.is_near("写一首关于秋天的诗歌")  # ROUGE-L 0.9 by characters
    assert seen.is_near("Write a short poem about the autumn leaves")
    assert not seen.is_near("解释一下光合作用的原理")
    assert not seen.is_near("List three prime numbers.")
    score, closest = seen.closest("写一首关于秋天的诗歌")
    assert closest == "请写一首关于秋天的诗" and round(score, 2) == 0.9


def test_an_exact_copy_is_a_duplicate_even_at_threshold_one():
    seen = NearDuplicates(1.0, ["用一句话介绍长城"])
    assert seen.is_near("用一句话介绍长城") and not seen.is_near("用一句话介绍长江")
