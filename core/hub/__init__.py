"""Hub: where models and datasets come from — Hugging Face, its mirrors or ModelScope — downloaded as a step of their
own that can be watched, resumed and cancelled, before anything loads them."""
