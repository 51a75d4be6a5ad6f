"""hf:// weights against a fake Hub on 127.0.0.1 (the endpoints hf_hub_download and create_commit use)."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import huggingface_hub.constants as hub_constants  # noqa: E402
import pytest
from _net import Attempts, closed_port  # noqa: E402

from lowlight_cli.errors import WeightsError
from lowlight_cli.weights.registry import resolve, resolve_onnx

LFS_SUFFIXES = (".safetensors", ".onnx")


class FakeHub:
    """Repositories as {commit: {path: bytes}} plus branch refs; serves resolve/ and takes commits."""

    def __init__(self) -> None:
        self.repos: dict[str, dict] = {}
        self.bad_etag: set[str] = set()
        """Paths served with a wrong LFS sha256, as a corrupted upload or download would look."""
        self.requests = 0
        hub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_HEAD(self) -> None:
                hub.requests += 1
                hub.resolve_file(self, body=False)

            def do_GET(self) -> None:
                hub.requests += 1
                hub.resolve_file(self, body=True)

            def do_POST(self) -> None:
                hub.requests += 1
                data = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                hub.post(self, data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def commit(self, repo: str, files: dict[str, bytes], branch: str = "main") -> str:
        entry = self.repos.setdefault(repo, {"commits": {}, "refs": {}})
        parent = entry["commits"].get(entry["refs"].get(branch), {})
        sha = hashlib.sha1(f"{repo}{len(entry['commits'])}{time.time_ns()}".encode()).hexdigest()
        entry["commits"][sha] = {**parent, **files}
        entry["refs"][branch] = sha
        return sha

    @staticmethod
    def reply(
        handler, status: int, body: bytes = b"", headers: dict | None = None, send_body: bool = True
    ) -> None:
        handler.send_response(status)
        for k, v in (headers or {}).items():
            handler.send_header(k, v)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        if send_body:
            handler.wfile.write(body)

    def resolve_file(self, handler, body: bool) -> None:
        parts = handler.path.split("?")[0].lstrip("/").split("/")
        repo, rev, path = "/".join(parts[:2]), parts[3], "/".join(parts[4:])
        entry = self.repos.get(repo)
        if entry is None:
            return self.reply(handler, 404, headers={"X-Error-Code": "RepoNotFound"}, send_body=body)
        sha = entry["refs"].get(rev, rev if rev in entry["commits"] else None)
        if sha is None:
            return self.reply(handler, 404, headers={"X-Error-Code": "RevisionNotFound"}, send_body=body)
        files = entry["commits"][sha]
        if path not in files:
            return self.reply(
                handler, 404, headers={"X-Error-Code": "EntryNotFound", "X-Repo-Commit": sha}, send_body=body
            )
        data = files[path]
        headers = {"X-Repo-Commit": sha, "ETag": f'"{hashlib.sha1(data).hexdigest()}"'}
        if path.endswith(LFS_SUFFIXES):
            digest = hashlib.sha256(data + (b"x" if path in self.bad_etag else b"")).hexdigest()
            headers |= {"X-Linked-Etag": f'"{digest}"', "X-Linked-Size": str(len(data))}
        self.reply(handler, 200, data, headers, send_body=body)

    def post(self, handler, data: bytes) -> None:
        path = handler.path.split("?")[0]
        if path == "/api/repos/create":
            request = json.loads(data)
            repo = f"{request.get('organization') or 'me'}/{request['name']}"
            self.repos.setdefault(repo, {"commits": {}, "refs": {}})
            return self.reply(handler, 200, json.dumps({"url": f"{self.url}/{repo}"}).encode())
        if path == "/api/validate-yaml":
            return self.reply(handler, 200, b"{}")
        parts = path.strip("/").split("/")  # api/models/{owner}/{name}/{preupload|commit}/{rev}
        repo, action, rev = "/".join(parts[2:4]), parts[4], parts[5]
        if action == "preupload":
            files = [
                {"path": f["path"], "uploadMode": "regular", "shouldIgnore": False}
                for f in json.loads(data)["files"]
            ]
            return self.reply(handler, 200, json.dumps({"files": files}).encode())
        lines = [json.loads(line) for line in data.splitlines() if line.strip()]
        files = {
            v["value"]["path"]: base64.b64decode(v["value"]["content"]) for v in lines if v["key"] == "file"
        }
        sha = self.commit(repo, files, rev)
        answer = {"commitUrl": f"{self.url}/{repo}/commit/{sha}", "commitOid": sha, "pullRequestUrl": None}
        self.reply(handler, 200, json.dumps(answer).encode())


@pytest.fixture
def hub(monkeypatch, tmp_path):
    server = FakeHub()
    monkeypatch.setenv("HF_ENDPOINT", server.url)
    monkeypatch.setenv("HF_TOKEN", "hf_fake_token_for_tests")
    monkeypatch.setattr(hub_constants, "HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    monkeypatch.setattr(hub_constants, "HF_HUB_OFFLINE", False)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def weights_files() -> dict[str, bytes]:
    found = resolve("official")
    return {
        "config.json": found.config_file.read_bytes(),
        "model.safetensors": found.weights_file.read_bytes(),
    }


def test_pull_caches_and_then_works_with_the_hub_gone(hub, monkeypatch, weights_files):
    commit = hub.commit("me/agllnet", weights_files)
    found = resolve("hf://me/agllnet/model.safetensors")
    assert found.weights_file.read_bytes() == weights_files["model.safetensors"]
    assert found.weights_file.parent.name == commit  # the snapshot of the resolved commit
    assert found.sha256 == hashlib.sha256(weights_files["model.safetensors"]).hexdigest()

    hub.stop()
    gone = (
        closed_port()
    )  # the Hub gone: every connection refused (a pooled one to the old server cannot answer)
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{gone}")
    attempts = Attempts(monkeypatch, gone)
    assert resolve("hf://me/agllnet/model.safetensors").weights_file == found.weights_file
    assert resolve(f"hf://me/agllnet@{commit}/model.safetensors").weights_file == found.weights_file
    # the cached branch and commit resolve after one refused look-up per file, never a retry with back-off
    # (which made this take 25 s a file): 2 references x (weights, config.json)
    assert len(attempts) <= 4, attempts.addresses
    monkeypatch.setattr(hub_constants, "HF_HUB_OFFLINE", True)
    assert resolve("hf://me/agllnet/model.safetensors").weights_file == found.weights_file
    with pytest.raises(WeightsError, match="not in the local cache.*HF_HUB_OFFLINE"):
        resolve("hf://me/other/model.safetensors")
    assert len(attempts) <= 4, attempts.addresses  # offline: not one request more


def test_unreachable_hub_without_cache_is_a_clear_error_not_a_hang(hub, monkeypatch):
    """huggingface_hub retries a refused connection with back-off (about 25 s, 6 attempts); we look once,
    then name the problem."""
    hub.stop()
    gone = closed_port()
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{gone}")
    attempts = Attempts(monkeypatch, gone)
    with pytest.raises(WeightsError, match="Hub cannot be reached"):
        resolve("hf://me/agllnet/model.safetensors")
    assert len(attempts) == 1, attempts.addresses  # one refused look-up, no retry


def test_revisions_are_pinned(hub, weights_files):
    first = hub.commit("me/agllnet", weights_files)
    config = json.loads(weights_files["config.json"])
    config["metadata"] = {"note": "second"}
    second = hub.commit("me/agllnet", {"config.json": json.dumps(config).encode()})
    old = resolve(f"hf://me/agllnet@{first}/model.safetensors")
    new = resolve("hf://me/agllnet@main/model.safetensors")
    assert old.config_file.parent.name == first and new.config_file.parent.name == second
    assert "second" not in old.config_file.read_text() and "second" in new.config_file.read_text()
    with pytest.raises(WeightsError, match="no such revision"):
        resolve("hf://me/agllnet@v9/model.safetensors")
    with pytest.raises(WeightsError, match="no such repository"):
        resolve("hf://me/nothing/model.safetensors")
    with pytest.raises(WeightsError, match="no such file"):
        resolve("hf://me/agllnet/sub/model.safetensors")


def test_checksum_mismatches_are_rejected(hub, weights_files):
    hub.commit("me/bad-etag", weights_files)
    hub.bad_etag.add("model.safetensors")
    with pytest.raises(WeightsError, match="sha256"):
        resolve("hf://me/bad-etag/model.safetensors")

    from lowlight_cli.weights.model_io import load_model

    tampered = bytearray(weights_files["model.safetensors"])
    tampered[-1] ^= 1  # the Hub's own sha256 is consistent, but config.json's sha256 is not
    hub.commit("me/tampered", {**weights_files, "model.safetensors": bytes(tampered)})
    with pytest.raises(WeightsError, match="sha256"):
        load_model("hf://me/tampered/model.safetensors")


def test_push_round_trip_with_onnx_and_model_card(hub, tmp_path):
    from typer.testing import CliRunner

    from lowlight_cli.cli.weights import app

    local = tmp_path / "mine"
    shutil.copytree(resolve("official").weights_file.parent, local)
    result = CliRunner().invoke(app, ["push", str(local), "me/agllnet-mine"])
    assert result.exit_code == 0, result.output
    pinned = result.output.split("--weights ")[1].split()[0]
    commit = hub.repos["me/agllnet-mine"]["refs"]["main"]
    assert pinned == f"hf://me/agllnet-mine@{commit}/model.safetensors"
    files = hub.repos["me/agllnet-mine"]["commits"][commit]
    assert {"config.json", "model.safetensors", "README.md", "onnx/manifest.json", "onnx/local.onnx"} <= set(
        files
    )
    assert hashlib.sha256(files["model.safetensors"]).hexdigest() in files["README.md"].decode()

    pulled = CliRunner().invoke(app, ["pull", pinned])
    assert pulled.exit_code == 0, pulled.output
    assert resolve(pinned).weights_file.read_bytes() == (local / "model.safetensors").read_bytes()
    graphs = resolve_onnx(pinned)  # the onnx backend can run Hub weights without torch
    assert graphs.graphs["fp32"]["local"].read_bytes() == (local / "onnx" / "local.onnx").read_bytes()


def test_hub_graphs_of_an_older_manifest_listing_int8_load_fp32_and_fp16(hub, tmp_path):
    """A repository whose manifest still lists int8 graphs (without their files):
    only fp32/fp16 are fetched."""
    from typer.testing import CliRunner

    from lowlight_cli.cli.weights import app

    local = tmp_path / "older"
    shutil.copytree(resolve("official").weights_file.parent, local)
    manifest = json.loads((local / "onnx" / "manifest.json").read_text())
    manifest["graphs"]["int8"] = {
        s: {"file": f"{s}.int8.onnx", "sha256": "0" * 64} for s in ("attention", "local")
    }
    (local / "onnx" / "manifest.json").write_text(json.dumps(manifest, indent=2))
    result = CliRunner().invoke(app, ["push", str(local), "me/agllnet-older"])
    assert result.exit_code == 0, result.output
    pinned = result.output.split("--weights ")[1].split()[0]
    assert not any(
        "int8" in path
        for path in hub.repos["me/agllnet-older"]["commits"][pinned.split("@")[1].split("/")[0]]
    )
    graphs = resolve_onnx(pinned)
    assert set(graphs.graphs) == {"fp32", "fp16"}
