"""A full or freeze run's whole tuned model held beside its base, switched like a LoRA adapter.

Chat, evaluation and the demo compare the base and the tuned model by switching a LoRA adapter off and on
(`model.disable_adapter()`). A full or freeze run has no adapter: its tuned weights are a second model. BesideBase
keeps both and answers as the tuned one, or as the base inside `disable_adapter()`, so every caller stays the same.
It holds two copies of the model in memory; callers that need only the tuned one load it alone.
"""

from __future__ import annotations

import contextlib


class BesideBase:
    def __init__(self, tuned, base):
        self._tuned, self._base = tuned, base
        self._active = tuned

    @contextlib.contextmanager
    def disable_adapter(self):
        """Answer as the base model inside this block (callers hold the model's lock: one generation at a time)."""
        self._active = self._base
        try:
            yield
        finally:
            self._active = self._tuned

    def eval(self):
        self._tuned.eval()
        self._base.eval()
        return self

    def __call__(self, *args, **kwargs):
        return self._active(*args, **kwargs)

    def __getattr__(self, name):  # generate, device, config, generation_config ... of the model in use
        return getattr(self._active, name)
