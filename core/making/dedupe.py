"""Near-duplicates by ROUGE-L, as the Alpaca self-instruct code drops them, with a tokenizer that works for Chinese.

rouge-score's own tokenizer keeps only [a-z0-9] words, so a Chinese sentence becomes no tokens at all, scores 0
against anything, and every Chinese duplicate is kept. Here a CJK character is one token (Chinese has no spaces
between words; characters are what ROUGE-L for Chinese is usually scored on) and other text splits into words.
"""

from __future__ import annotations

import re

from rouge_score import rouge_scorer

CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
TOKEN = re.compile(rf"[{CJK}]|(?:(?![{CJK}])[^\W_])+")


class CjkTokenizer:
    """The tokenizer rouge-score's RougeScorer takes: lower-case words, and each CJK character alone."""

    def tokenize(self, text: str) -> list[str]:
        return TOKEN.findall(text.lower())


class NearDuplicates:
    """Texts seen so far; `is_near(text)` when one of them overlaps `text` by more than `threshold` ROUGE-L F1."""

    def __init__(self, threshold: float, texts=()):
        self.threshold = threshold
        self.scorer = rouge_scorer.RougeScorer(["rougeL"], tokenizer=CjkTokenizer())
        self.tokenizer = CjkTokenizer()
        self.seen: list[tuple[str, int]] = []
        for text in texts:
            self.add(text)

    def add(self, text: str) -> None:
        self.seen.append((text, len(self.tokenizer.tokenize(text))))

    def closest(self, text: str) -> tuple[float, str | None]:
        """(the highest ROUGE-L F1 against a seen text, that text)."""
        size = len(self.tokenizer.tokenize(text))
        best, best_text = 0.0, None
        for other, other_size in self.seen:
            # F1 is at most 2*min/(sum) whatever the order: skip pairs whose sizes alone keep them below the best.
            if size + other_size == 0 or 2 * min(size, other_size) / (size + other_size) <= best:
                continue
            score = self.scorer.score(other, text)["rougeL"].fmeasure
            if score > best:
                best, best_text = score, other
        return best, best_text

    def is_near(self, text: str) -> bool:
        """Above the threshold; an exact copy is always a duplicate, even at threshold 1."""
        score, _ = self.closest(text)
        return score > self.threshold or score >= 1.0
