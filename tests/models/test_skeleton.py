"""skeleton leaves torch's default dtype alone. That setting is process-wide, and the studio builds
the page's fit estimates on one thread while a model loads on another: the answer file's model once came out with
bfloat16 layers beside float32 ones and stopped with "expected m1 and m2 to have the same dtype"."""

from __future__ import annotations

import torch
from transformers import AutoConfig

from core.hub.curated import CURATED
from core.models.skeleton import skeleton


def test_a_skeleton_is_built_without_setting_torchs_default_dtype(monkeypatch):
    hf_config = AutoConfig.from_pretrained(str(CURATED[0].config_dir()))
    assert hf_config.dtype == torch.bfloat16  # what from_config would have made the process default while it built
    set_to = []
    real = torch.set_default_dtype
    monkeypatch.setattr(torch, "set_default_dtype", lambda dtype: (set_to.append(dtype), real(dtype))[1])

    model = skeleton(hf_config)

    assert set_to == []
    assert torch.get_default_dtype() == torch.float32
    # Sized as before: in config.json's dtype, on the meta device, and the config is left as it was read.
    assert {p.dtype for p in model.parameters()} == {torch.bfloat16}
    assert {p.device.type for p in model.parameters()} == {"meta"}
    assert hf_config.dtype == torch.bfloat16
