"""Models: finding and loading the base model and its tokenizer, the hardware it runs on, and generating text."""
