"""Training: one fine-tune from loaded data and model to a saved adapter, watched through the run folder."""
