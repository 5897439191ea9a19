"""Making data: a stronger model (a teacher) writes training rows — answers and reasoning, new tasks from a few
examples, questions from documents — kept in a file as they come, checked and deduplicated."""
