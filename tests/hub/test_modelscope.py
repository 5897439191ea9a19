"""ModelScope through the modelscope package's own client, pointed at a hub on 127.0.0.1 that answers in
ModelScope's layout (/api/v1/models/<id>/repo/files and /repo?FilePath=)."""

from __future__ import annotations

import pytest

from core.hub.download import COMPLETE, download_model, find_local, local_models
from core.hub.settings import HubError, HubSettings


def test_a_model_comes_from_modelscope_through_its_own_client(hub_home, mirror):
    reports = []
    folder = download_model("tiny/llama", settings=HubSettings("modelscope", mirror.url), progress=reports.append)

    assert (folder / COMPLETE).is_file() and folder.parts[-4:] == ("modelscope", "models", "tiny", "llama")
    for original in mirror.files("model", "tiny/llama"):
        assert (folder / original.name).read_bytes() == original.read_bytes()
    assert any(path.startswith("/api/v1/models/tiny/llama/repo") for _, path, _ in mirror.log)
    assert reports[-1].done_bytes == reports[-1].total_bytes > 0
    assert [m.hub for m in local_models()] == ["modelscope"]
    assert find_local("tiny/llama", hub="huggingface") == folder  # a model is a model, whichever hub it came from


@pytest.mark.parametrize("case, said", [
    ("unknown", "has no tiny/nothing-here"),
    ("mirror answers html", "answered with a web page"),
])
def test_modelscopes_refusals_are_said_the_same_way(hub_home, mirror, case, said):
    mirror.html = case == "mirror answers html"
    with pytest.raises(HubError, match=said):
        download_model("tiny/nothing-here", settings=HubSettings("modelscope", mirror.url))
    assert local_models() == []
