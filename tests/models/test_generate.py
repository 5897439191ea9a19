"""Answer text as people read it."""

from core.models import tiny
from core.models.generate import answer_text


def test_an_answer_cut_inside_a_character_never_shows_half_of_it():
    tokenizer = tiny.build_tokenizer()
    ids = tokenizer.encode("Nova 我", add_special_tokens=False)
    assert tokenizer.decode(ids[:-1]).endswith("\ufffd")  # the last byte of 我 is missing
    assert answer_text(tokenizer, ids[:-1], stops=set()) == ("Nova", False)
    assert answer_text(tokenizer, ids, stops=set()) == ("Nova 我", False)
