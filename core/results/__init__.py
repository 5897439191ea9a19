"""Results: using a trained run — chat, evaluation, voting, export, and the cards that travel with it."""
