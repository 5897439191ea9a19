"""The Hugging Face hub (or a mirror of it) through huggingface_hub: a repository's files and sizes from its API,
each file by the client's own resumable HTTP transfer, and the client's errors turned into messages a user can act
on."""

from __future__ import annotations

from contextlib import contextmanager

from core.hub.settings import HubError, official_address


class HuggingFaceClient:
    def __init__(self, address: str, token: str | None):
        self.address, self.token = address, token

    def files(self, repo_id: str, kind: str) -> tuple[list[tuple[str, int]], str]:
        """[(file, size)] of the repository and the commit they belong to (so every file comes from one commit)."""
        from huggingface_hub import HfApi

        api = HfApi(endpoint=self.address, token=self.token or False)
        with self.errors(repo_id, kind):
            info = (api.dataset_info if kind == "dataset" else api.model_info)(repo_id, files_metadata=True)
        files = [(s.rfilename, int(s.size or 0)) for s in info.siblings or []]
        if not files:
            raise HubError("hub.download.empty", id=repo_id, address=self.address)
        return files, info.sha or "main"

    def fetch(self, repo_id, kind, commit, name, handle, resumed, size, bar_class) -> None:
        """Append `name` to `handle` from byte `resumed` on (a Range request; the client retries a broken
        connection itself)."""
        from huggingface_hub import hf_hub_url
        from huggingface_hub.file_download import http_get
        from huggingface_hub.utils import build_hf_headers

        url = hf_hub_url(repo_id, name, repo_type=None if kind == "model" else kind, revision=commit,
                         endpoint=self.address)
        with self.errors(repo_id, kind):
            http_get(url, handle, resume_size=resumed, headers=build_hf_headers(token=self.token or False),
                     expected_size=size, displayed_filename=name, tqdm_class=bar_class)

    def page(self, repo_id: str, kind: str) -> str:
        """Where a user accepts a gated model's license: the hub itself (a mirror passes the token on to it)."""
        return f"{official_address('huggingface')}/{'datasets/' if kind == 'dataset' else ''}{repo_id}"

    @contextmanager
    def errors(self, repo_id: str, kind: str):
        """The client's exceptions, as the catalogue's messages (the most specific first: a gated repository's
        error is also a 'not found' one)."""
        from huggingface_hub import errors

        transport = _transport_error()

        try:
            yield
        except errors.GatedRepoError:
            if self.token:
                raise HubError("hub.download.gated_denied", id=repo_id, page=self.page(repo_id, kind)) from None
            raise HubError("hub.download.gated_no_token", id=repo_id, page=self.page(repo_id, kind)) from None
        except (errors.RepositoryNotFoundError, errors.RevisionNotFoundError, errors.EntryNotFoundError):
            raise self._not_found_or_bad_token(repo_id) from None
        except errors.HfHubHTTPError as err:
            raise self._http_error(err, repo_id, kind) from None
        except (transport, ConnectionError, TimeoutError) as err:
            raise HubError("hub.download.no_network", address=self.address, reason=_first_line(err)) from None
        except ValueError as err:  # a JSON answer that is not JSON: a page, not the hub's API
            raise HubError("hub.download.mirror_html", address=self.address, reason=_first_line(err)) from None

    def _not_found_or_bad_token(self, repo_id: str) -> HubError:
        return HubError("hub.download.unknown_id", id=repo_id, address=self.address)

    def _http_error(self, err, repo_id: str, kind: str) -> HubError:
        status = err.response.status_code if err.response is not None else None
        if status == 401:
            if self.token:
                return HubError("hub.download.bad_token", address=self.address)
            return HubError("hub.download.gated_no_token", id=repo_id, page=self.page(repo_id, kind))
        if status == 403:
            return HubError("hub.download.gated_denied", id=repo_id, page=self.page(repo_id, kind))
        if status == 404:
            return HubError("hub.download.unknown_id", id=repo_id, address=self.address)
        if "text/html" in (err.response.headers.get("content-type", "") if err.response is not None else ""):
            return HubError("hub.download.mirror_html", address=self.address, reason=_first_line(err))
        return HubError("hub.download.failed", id=repo_id, address=self.address, reason=_first_line(err))


def _transport_error() -> type:
    """The HTTP library's 'the connection failed' class: huggingface_hub 2 talks through httpx2, 1.x through httpx."""
    try:
        import httpx2
    except ImportError:
        import httpx as httpx2
    return httpx2.TransportError


def _first_line(err: Exception) -> str:
    return (str(err).strip().splitlines() or [type(err).__name__])[0][:200]
