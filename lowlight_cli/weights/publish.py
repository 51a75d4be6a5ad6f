"""`lowlight weights push`: upload a weights folder (and its ONNX export) to the Hugging Face Hub with a
card."""

from __future__ import annotations

import json
from pathlib import Path

from lowlight_cli.errors import WeightsError
from lowlight_cli.weights.files import CONFIG_FILE, ONNX_DIR, ONNX_MANIFEST, WEIGHTS_FILE, sha256_of
from lowlight_cli.weights.hub import PREFIX, _endpoint, network_reason
from lowlight_cli.weights.registry import resolve


def model_card(config: dict, weights: Path, source: str) -> str:
    """README.md for the Hub: what the weights are, their sha256, how to use them with lowlight."""
    cfg = config["config"]
    return f"""---
library_name: lowlight
license: other
tags: [low-light-image-enhancement, agllnet, image-to-image]
---

# AgLLNet weights for `lowlight`

Attention-guided low-light enhancement (Lv, Li & Lu, IJCV 2021),
{"with" if cfg.get("noise_net") else "without"} a Noise-Net, pushed from `{source}`
by `lowlight weights push`.

| file | sha256 |
| --- | --- |
| `{WEIGHTS_FILE}` | `{sha256_of(weights)}` |

`{CONFIG_FILE}` holds the architecture (`lowlight_cli.models.config.AgLLNetConfig`) and the sha256 above;
the loader refuses weights that do not match it. See the source weights' own card for licence and
training data.

```bash
pip install "lowlight[cpu]"
lowlight enhance photo.jpg --weights hf://<owner>/<repo>@<commit>/{WEIGHTS_FILE}
```
"""


def push(
    ref: str, repo_id: str, revision: str | None = None, private: bool = False, message: str | None = None
) -> str:
    """Upload config.json, model.safetensors, a model card (and onnx/ if exported) in one commit.

    Returns the commit-pinned hf:// reference of the uploaded weights.
    """
    from huggingface_hub import CommitOperationAdd, HfApi
    from huggingface_hub.errors import HfHubHTTPError

    found = resolve(ref)
    config = json.loads(found.config_file.read_text())
    files = {CONFIG_FILE: found.config_file, WEIGHTS_FILE: found.weights_file}
    onnx = found.weights_file.parent / ONNX_DIR
    if (onnx / ONNX_MANIFEST).is_file():
        files |= {f"{ONNX_DIR}/{p.name}": p for p in sorted(onnx.iterdir()) if p.suffix in (".onnx", ".json")}
    card = model_card(config, found.weights_file, str(ref)).encode()
    operations = [CommitOperationAdd(name, str(path)) for name, path in files.items()]
    operations.append(CommitOperationAdd("README.md", card))
    api = HfApi(endpoint=_endpoint(), library_name="lowlight")
    try:
        api.create_repo(repo_id, private=private, exist_ok=True)
        info = api.create_commit(
            repo_id, operations, commit_message=message or f"lowlight weights push {ref}", revision=revision
        )
    except Exception as exc:  # noqa: BLE001 - HTTP errors, a dead network, a missing token: one line each
        reason = network_reason(exc)
        if reason and not isinstance(exc, HfHubHTTPError):
            raise WeightsError(
                f"push to {repo_id}: cannot reach the Hub ({reason}); nothing was uploaded"
            ) from None
        text = str(exc).splitlines()[0] if str(exc) else ""
        raise WeightsError(f"push to {repo_id}: {exc.__class__.__name__}: {text}") from None
    return f"{PREFIX}{repo_id}@{info.oid}/{WEIGHTS_FILE}"
