"""ModelScope (its own site, or an address that serves its API) through ModelScope's own hub client,
`modelscope-hub` (what the `modelscope` SDK itself downloads with, without the SDK's 5 s of imports): the file list
with sizes from its API, each file by its own downloader, its errors turned into messages a user can act on.

Model ids are the same on both hubs for the organisations that publish on both under one name (Qwen/...,
deepseek-ai/...); where a name differs, the id to type is the one on ModelScope's model page.
"""

from __future__ import annotations

import logging
import shutil
from contextlib import contextmanager
from pathlib import Path

from core.hub.settings import HubError, official_address


class ModelScopeClient:
    def __init__(self, address: str, token: str | None):
        self.address, self.token = address, token
        # its INFO lines and per-file bars would bury the studio's own progress line
        logging.getLogger("modelscope_hub").setLevel(logging.WARNING)
        try:
            import modelscope_hub  # noqa: F401
        except ImportError:
            raise HubError("hub.download.modelscope_missing") from None

    def files(self, repo_id: str, kind: str) -> tuple[list[tuple[str, int]], str]:
        from modelscope_hub.compat import LegacyHubApi

        api = LegacyHubApi(endpoint=self.address, token=self.token)
        with self.errors(repo_id, kind):
            if kind == "dataset":
                entries = api.get_dataset_files(repo_id, recursive=True)
            else:
                entries = api.get_model_files(repo_id, recursive=True)
        files = [(e["Path"], int(e.get("Size") or 0)) for e in entries if e.get("Type", "blob") == "blob"]
        if not files:
            raise HubError("hub.download.empty", id=repo_id, address=self.address)
        return files, "master"

    def fetch(self, repo_id, kind, commit, name, handle, resumed, size, bar_class) -> None:
        """Fetch `name` with ModelScope's downloader into a folder of its own beside the .part, then append it to
        `handle`. The client drops its partial file when stopped, so with ModelScope a download resumes from the
        whole files it has, not from inside the file it was in (measured against the loopback hub)."""
        from modelscope_hub.compat import dataset_snapshot_download, snapshot_download

        staging = Path(handle.name).with_suffix(".modelscope")
        meter_callback = _callback(bar_class, resumed)
        with self.errors(repo_id, kind):
            if kind == "dataset":
                dataset_snapshot_download(repo_id, local_dir=str(staging), allow_patterns=[name],
                                          token=self.token, endpoint=self.address)
            else:
                snapshot_download(repo_id, local_dir=str(staging), allow_patterns=[name], token=self.token,
                                  endpoint=self.address, progress_callbacks=[meter_callback], max_workers=1)
        with open(staging / name, "rb") as whole:
            whole.seek(resumed)
            shutil.copyfileobj(whole, handle)
        shutil.rmtree(staging, ignore_errors=True)

    def page(self, repo_id: str, kind: str) -> str:
        return f"{official_address('modelscope')}/{'datasets' if kind == 'dataset' else 'models'}/{repo_id}"

    @contextmanager
    def errors(self, repo_id: str, kind: str):
        import requests
        from modelscope_hub import errors

        try:
            yield
        except errors.AuthenticationError:
            if self.token:
                raise HubError("hub.download.bad_token", address=self.address) from None
            raise HubError("hub.download.gated_no_token", id=repo_id, page=self.page(repo_id, kind)) from None
        except errors.PermissionDeniedError:
            raise HubError("hub.download.gated_denied", id=repo_id, page=self.page(repo_id, kind)) from None
        except errors.NotExistError:
            raise HubError("hub.download.unknown_id", id=repo_id, address=self.address) from None
        except (errors.NetworkError, requests.ConnectionError, requests.Timeout) as err:
            raise HubError("hub.download.no_network", address=self.address, reason=_first_line(err)) from None
        except requests.HTTPError as err:
            status = err.response.status_code if err.response is not None else None
            if status == 404:
                raise HubError("hub.download.unknown_id", id=repo_id, address=self.address) from None
            raise HubError("hub.download.failed", id=repo_id, address=self.address, reason=_first_line(err)) from None
        except (ValueError, KeyError) as err:  # an answer that is not the API's JSON: a web page
            raise HubError("hub.download.mirror_html", address=self.address, reason=_first_line(err)) from None
        except errors.HubError as err:
            raise HubError("hub.download.failed", id=repo_id, address=self.address, reason=_first_line(err)) from None


def _callback(bar_class, resumed: int):
    """modelscope's ProgressCallback, counting into the studio's meter (and so stopping it when asked)."""
    from modelscope_hub import ProgressCallback

    class Counted(ProgressCallback):
        def __init__(self, filename: str, file_size: int):
            super().__init__(filename, file_size)
            self.bar = bar_class()

        def update(self, size: int) -> None:
            self.bar.update(size)

        def end(self) -> None:
            pass

    return Counted


def _first_line(err: Exception) -> str:
    return (str(err).strip().splitlines() or [type(err).__name__])[0][:200]

