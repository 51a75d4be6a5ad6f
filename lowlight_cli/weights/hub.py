"""Weights on the Hugging Face Hub: `hf://owner/repo[@revision]/path/model.safetensors`.

Files land in huggingface_hub's standard cache, so `HF_HOME`, `HF_HUB_CACHE`, `HF_HUB_OFFLINE` and
`HF_ENDPOINT` behave as users of other HF tools expect; a reference whose files are cached works offline.
A file's sha256 is checked against the one the Hub recorded for it, and the weights against their
config.json (by the loader), so neither a damaged cache nor a mismatched pair goes unnoticed.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from lowlight_cli.errors import WeightsError
from lowlight_cli.weights.files import (
    CONFIG_FILE,
    GRAPH_PRECISIONS,
    ONNX_DIR,
    ONNX_MANIFEST,
    NoOnnxExport,
    ResolvedWeights,
    sha256_of,
)

PREFIX = "hf://"
ETAG_TIMEOUT = 10.0
"""Seconds to wait for the Hub's answer before falling back to the cache (never hang on a dead network)."""
_REF = re.compile(re.escape(PREFIX) + r"(?P<repo>[\w.-]+/[\w.-]+?)(?:@(?P<rev>[^/]+))?/(?P<file>.+)")
_SHA256 = re.compile(r"[0-9a-f]{64}")


class HubFileMissing(WeightsError):
    """The repository and revision exist, the file does not."""


@dataclass(frozen=True)
class HubRef:
    repo_id: str
    revision: str | None
    """Branch, tag or commit; None means the default branch (not reproducible: pin a commit)."""
    filename: str

    def sibling(self, name: str) -> str:
        """Path in the repository of `name` in the same folder as the weights file."""
        return str(PurePosixPath(self.filename).parent / name).removeprefix("./")

    def __str__(self) -> str:
        return f"{PREFIX}{self.repo_id}{'@' + self.revision if self.revision else ''}/{self.filename}"


def parse_ref(text: str) -> HubRef:
    match = _REF.fullmatch(text)
    if not match:
        raise WeightsError(
            f"{text!r}: expected hf://owner/repo[@revision]/file, e.g. hf://me/agllnet@v1/model.safetensors"
        )
    return HubRef(match["repo"], match["rev"], match["file"])


def _endpoint() -> str | None:
    """HF_ENDPOINT as set now (huggingface_hub reads it only once, at import)."""
    return os.environ.get("HF_ENDPOINT") or None


def download(ref: HubRef, filename: str) -> Path:
    """One file of `ref`'s repository at its revision, from the cache or the Hub; its Hub sha256 checked."""
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import (
        EntryNotFoundError,
        HfHubHTTPError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    from lowlight_cli import __version__

    where = f"{PREFIX}{ref.repo_id}@{ref.revision or 'main'}/{filename}"
    unreachable = _unreachable(ref, filename) if not _offline() else "HF_HUB_OFFLINE is set"
    try:
        path = Path(
            hf_hub_download(
                ref.repo_id,
                filename,
                revision=ref.revision,
                endpoint=_endpoint(),
                etag_timeout=ETAG_TIMEOUT,
                local_files_only=unreachable
                is not None,  # no retries against a dead network: the cache or nothing
                library_name="lowlight",
                library_version=__version__,
            )
        )
    except LocalEntryNotFoundError:
        raise WeightsError(
            f"{where}: not in the local cache and the Hub cannot be reached "
            f"({unreachable or 'no connection'}); run this once with a connection (or HF_ENDPOINT "
            "set to a reachable mirror), later runs use the cache"
        ) from None
    except RepositoryNotFoundError:
        raise WeightsError(
            f"{where}: no such repository on the Hub (or it is private: set HF_TOKEN)"
        ) from None
    except RevisionNotFoundError:
        raise WeightsError(f"{where}: no such revision (branch, tag or commit) in {ref.repo_id}") from None
    except EntryNotFoundError:
        raise HubFileMissing(f"{where}: no such file at that revision") from None
    except (HfHubHTTPError, OSError) as exc:
        raise WeightsError(
            f"{where}: download failed ({exc.__class__.__name__}: {str(exc).splitlines()[0]})"
        ) from None
    # The cache stores each file as blobs/<etag>; for LFS files (weights, graphs) the etag is their sha256.
    recorded = path.resolve().name
    if _SHA256.fullmatch(recorded) and sha256_of(path) != recorded:
        raise WeightsError(
            f"{where}: sha256 does not match the Hub's record {recorded[:12]}… (damaged download?)"
        )
    return path


def _unreachable(ref: HubRef, filename: str) -> str | None:
    """Why the Hub cannot be reached now (one request, no retries), or None when it answers at all.

    huggingface_hub retries a failed lookup with back-off when the file is not cached (about 25 s of
    warnings); one HEAD request first tells a dead network from a live one at once.
    """
    from huggingface_hub import get_hf_file_metadata, hf_hub_url

    try:
        get_hf_file_metadata(
            hf_hub_url(ref.repo_id, filename, revision=ref.revision, endpoint=_endpoint()),
            timeout=ETAG_TIMEOUT,
        )
    except Exception as exc:  # noqa: BLE001 - the HTTP client's error types are not part of huggingface_hub's API
        return network_reason(exc)
    return None


def network_reason(exc: BaseException) -> str | None:
    """A short reason when `exc` is a failure to reach the server (refused, DNS, timeout, proxy),
    else None."""
    kinds = {c.__name__ for c in type(exc).__mro__}
    if kinds & {
        "TransportError",
        "ConnectionError",
        "TimeoutError",
        "TimeoutException",
        "OfflineModeIsEnabled",
    } or (isinstance(exc, OSError) and not kinds & {"HfHubHTTPError", "EntryNotFoundError"}):
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return text[:120]
    return None


def _offline() -> bool:
    """HF_HUB_OFFLINE as set now, not only at huggingface_hub's import (like `_endpoint`)."""
    from huggingface_hub import constants

    return constants.is_offline_mode() or os.environ.get("HF_HUB_OFFLINE", "").upper() in {
        "1",
        "ON",
        "YES",
        "TRUE",
    }


def resolve_hub(text: str) -> ResolvedWeights:
    """Fetch (or find in the cache) the weights file and the config.json beside it."""
    ref = parse_ref(text)
    weights = download(ref, ref.filename)
    config = download(ref, ref.sibling(CONFIG_FILE))
    recorded = weights.resolve().name
    return ResolvedWeights(weights, config, recorded if _SHA256.fullmatch(recorded) else None, text)


def onnx_manifest(text: str) -> Path:
    """The manifest of the graphs stored beside the weights (`onnx/manifest.json` in the repository).

    Raises NoOnnxExport when the weights are there but have no graphs, and the download's own one-line
    WeightsError for anything else (Hub unreachable, no such repository, revision or folder).
    """
    ref = parse_ref(text)
    try:
        return download(ref, ref.sibling(f"{ONNX_DIR}/{ONNX_MANIFEST}"))
    except HubFileMissing:
        download(ref, ref.sibling(CONFIG_FILE))  # the weights' folder exists (else: that one-line error)
        raise NoOnnxExport(
            f"weights {text!r}: no ONNX graphs on the Hub beside them "
            f"({ref.sibling(f'{ONNX_DIR}/{ONNX_MANIFEST}')} not in {ref.repo_id}@{ref.revision or 'main'})"
        ) from None


def download_onnx(text: str) -> Path:
    """The exported graphs stored beside the weights (`onnx/` in the repository), for `--backend onnx`."""
    ref = parse_ref(text)
    manifest = onnx_manifest(text)
    for precision, stages in json.loads(manifest.read_text())["graphs"].items():
        if precision not in GRAPH_PRECISIONS:  # listed by older exports, never loaded (`resolve_onnx`)
            continue
        for entry in stages.values():
            download(ref, ref.sibling(f"{ONNX_DIR}/{entry['file']}"))
    return manifest.parent
