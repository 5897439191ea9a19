"""Results: using a trained run — chat, evaluation, voting, export (merged, GGUF), the cards that travel with it, and
the demo: what it serves and its OpenAI-compatible API."""
