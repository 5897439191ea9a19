"""Answer text as people read it."""

from core.models import tiny
from core.models.generate import answer_text, without_empty_think


def test_an_answer_cut_inside_a_character_never_shows_half_of_it():
    tokenizer = tiny.build_tokenizer()
    ids = tokenizer.encode("Nova 我", add_special_tokens=False)
    assert tokenizer.decode(ids[:-1]).endswith("\ufffd")  # the last byte of 我 is missing
    assert answer_text(tokenizer, ids[:-1], stops=set()) == ("Nova", False)
    assert answer_text(tokenizer, ids, stops=set()) == ("Nova 我", False)


def test_an_empty_streamed_answer_ends_instead_of_waiting_forever():
    """A model that ends at once (its first token is end-of-sequence, as the tiny Nova run does for a long JSON
    prompt) streams nothing; reading the finished streamer again used to wait forever, holding the chat's model
    and the demo API's slot. The streamer's timeout turns that wait into an error here."""
    from transformers import TextIteratorStreamer

    streamer = TextIteratorStreamer(tiny.build_tokenizer(), timeout=2)
    streamer.end()
    assert list(without_empty_think(streamer)) == []
    think_only = TextIteratorStreamer(tiny.build_tokenizer(), timeout=2)
    think_only.text_queue.put("<think>\n\n</think>")
    think_only.end()
    assert list(without_empty_think(think_only)) == []
