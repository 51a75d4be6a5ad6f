"""Ray runs on a real local Ray instance (no mocks): `synth` and `enhance` write what the local runs write.

One Ray instance (`ray.init(num_cpus=2)`) is shared by the module: starting Ray costs seconds. The
two-node cluster (`ray start` head + worker on 127.0.0.1) is in the slow test at the end.
"""

from __future__ import annotations

import dataclasses
import io
import os
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from test_synth import good_image, tree_bytes
from typer.testing import CliRunner

from lowlight_cli.cli.app import app
from lowlight_cli.synth.manifest import load_pairs
from lowlight_cli.synth.pipeline import run
from lowlight_cli.synth.settings import DEFAULTS
from lowlight_cli.synth.sources import folder_or_glob

pytestmark = pytest.mark.integration  # Ray: one local instance per module, two nodes in the slow test

PHOTOS = Path(__file__).parent / "data" / "synth"


@pytest.fixture(scope="module")
def cluster():
    import ray

    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)  # never a running one
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> Path:
    """Four good photos in two folders, a grey one (rejected), an empty and a truncated file (failed)."""
    root = tmp_path_factory.mktemp("sources")
    for i in range(4):
        (root / f"set{i % 2}").mkdir(exist_ok=True)
        Image.fromarray(good_image(i)).save(root / f"set{i % 2}" / f"img{i}.png")
    Image.fromarray(np.repeat(good_image(9).mean(axis=2, keepdims=True), 3, axis=2).astype(np.uint8)).save(
        root / "grey.png"
    )
    (root / "empty.jpg").write_bytes(b"")
    buf = io.BytesIO()
    Image.fromarray(good_image(7)).save(buf, "JPEG")
    (root / "cut.jpg").write_bytes(buf.getvalue()[: len(buf.getvalue()) // 3])
    return root


def test_synth_on_ray_is_byte_identical_resumes_and_names_failures(cluster, sources, tmp_path):
    from lowlight_cli.cluster.ray_runs import synth_ray
    from lowlight_cli.cluster.runtime import Resources

    local, remote = tmp_path / "local", tmp_path / "ray"
    expected = run(folder_or_glob(str(sources)), local, DEFAULTS, workers=0)
    seen = []
    summary = synth_ray(
        folder_or_glob(str(sources)),
        remote,
        DEFAULTS,
        resources=Resources(actors=2),
        on_record=lambda record, resumed: seen.append(record["source"]),
    )
    assert (
        (summary.written, summary.rejected, summary.failed)
        == (expected.written, expected.rejected, 2)
        == (4, 1, 2)
    )
    assert sorted(seen) == sorted(
        s.rel for s in folder_or_glob(str(sources))
    )  # progress: one call per source
    assert sorted(line.split(":")[0] for line in summary.failures) == ["cut.jpg", "empty.jpg"]
    assert tree_bytes(remote) == tree_bytes(local)  # every pair file, the manifest and the skipped list

    # a run killed after writing part of a pair: that pair is redone, the rest resumed, the result the same
    victim = load_pairs(remote)[2]
    (remote / victim["files"]["noise"]).unlink()
    again = synth_ray(folder_or_glob(str(sources)), remote, DEFAULTS, resources=Resources(actors=2))
    assert (again.written, again.resumed, again.failed) == (1, 4, 2)
    assert tree_bytes(remote) == tree_bytes(local)


def test_tar_shards_on_ray_match_the_local_run_and_every_reader_agrees(cluster, sources, tmp_path):
    import webdataset as wds

    from lowlight_cli.cluster.ray_runs import synth_ray
    from lowlight_cli.cluster.runtime import Resources
    from lowlight_cli.synth.store import iter_pairs, read_pair
    from lowlight_cli.training.data import SynthPairs

    settings = dataclasses.replace(DEFAULTS, test_fraction=0.0)  # one split: two shards of 3 + 1 pairs
    loose, local, remote = tmp_path / "loose", tmp_path / "local", tmp_path / "ray"
    run(folder_or_glob(str(sources)), loose, settings, workers=0)
    run(folder_or_glob(str(sources)), local, settings, workers=0, tar=3)
    synth_ray(folder_or_glob(str(sources)), remote, settings, resources=Resources(actors=2), tar=3)
    assert tree_bytes(remote) == tree_bytes(local)
    assert sorted(p.name for p in (local / "train").iterdir()) == ["000001.tar", "000002.tar"]  # 3 + 1 pairs

    # the pairs in the shards are the loose pairs, whoever reads them: our reader, the loader, webdataset
    by_id = {r.name: r for r in iter_pairs(loose)}
    records = list(iter_pairs(local))
    assert sorted(r.name for r in records) == sorted(by_id) and all(r.shard for r in records)
    for record in records:
        want, got = read_pair(loose, by_id[record.name]), read_pair(local, record)
        assert all(np.array_equal(want[k], got[k]) for k in want)
    assert len(SynthPairs(local, crop=64)) == 4 and SynthPairs(local, crop=64)[0]["low"].shape == (3, 64, 64)
    streamed = list(
        wds.WebDataset(sorted(str(p) for p in (local / "train").glob("*.tar")), shardshuffle=False)
    )
    assert [s["__key__"] for s in streamed] == [r.files["low"].split(".")[0] for r in records]
    first = records[0]
    with tarfile.open(local / first.shard) as tar:
        assert (
            tar.extractfile(first.files["high"]).read()
            == (loose / by_id[first.name].files["high"]).read_bytes()
        )
    assert streamed[0]["high.png"] == (loose / by_id[first.name].files["high"]).read_bytes()


@pytest.fixture(scope="module")
def photos(tmp_path_factory) -> Path:
    """Three real photos (reduced to keep the test quick) and one truncated JPEG."""
    root = tmp_path_factory.mktemp("photos")
    for path in sorted(PHOTOS.glob("*.jpg")):
        with Image.open(path) as im:
            im.resize((im.width // 2, im.height // 2)).save(root / path.name, quality=95)
    data = (root / "000000000785.jpg").read_bytes()
    (root / "broken.jpg").write_bytes(data[: len(data) // 4])
    return root


def test_enhance_on_ray_writes_the_local_pixels_skips_done_files_and_fails_loudly(cluster, photos, tmp_path):
    from lowlight_cli.inference.enhancer import Enhancer
    from lowlight_cli.inference.files import enhance_items
    from lowlight_cli.io.images import read_image
    from lowlight_cli.io.paths import collect_inputs

    local = tmp_path / "local"
    list(enhance_items(Enhancer("official", device="cpu"), collect_inputs([str(photos)]), local, ""))
    out = tmp_path / "ray"
    result = CliRunner().invoke(
        app,
        [
            "enhance",
            str(photos),
            "-o",
            str(out),
            "--weights",
            "official",
            "--ray",
            "local",
            "--ray-actors",
            "2",
        ],
    )
    assert result.exit_code == 1, result.output  # the broken file fails the batch
    assert "Ray cluster: 1 node, 2 CPUs" in result.output
    assert "3 enhanced, 0 skipped, 1 failed" in result.output
    assert "failed:" in result.output and str(photos / "broken.jpg") in result.output
    names = sorted(p.name for p in local.iterdir())
    assert names == sorted(p.name for p in out.iterdir()) and len(names) == 3
    for name in names:
        assert np.array_equal(read_image(out / name)[0], read_image(local / name)[0]), name
    again = CliRunner().invoke(
        app, ["enhance", str(photos), "-o", str(out), "--weights", "official", "--ray", "local"]
    )
    assert "0 enhanced, 3 skipped, 1 failed" in again.output and again.exit_code == 1


def test_without_ray_the_option_is_one_line_naming_the_extra(monkeypatch, tmp_path):
    from lowlight_cli import extras

    monkeypatch.setattr(extras, "installed", lambda module: module != "ray")
    result = CliRunner().invoke(app, ["enhance", str(PHOTOS), "-o", str(tmp_path), "--ray", "local"])
    assert result.exit_code == 1
    assert result.output.strip().count("\n") == 0 and "pip install 'lowlight[ray]'" in result.output, (
        result.output
    )


def _ray_start(*args: str, env: dict, tmp: Path) -> subprocess.Popen:
    """`ray start --block ...` as a child of this test, ended by its pid (never a machine-wide `ray stop`)."""
    ray = Path(sys.executable).with_name("ray")
    return subprocess.Popen(
        [str(ray), "start", "--block", "--disable-usage-stats", *args],
        env=env,
        stdout=open(tmp / f"ray-{len(args)}.log", "w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _wait_for_nodes(address: str, count: int, env: dict, tmp: Path, limit: float = 300) -> None:
    probe = [
        sys.executable,
        "-c",
        f"import ray; ray.init(address={address!r}); print(sum(n['Alive'] for n in ray.nodes()))",
    ]
    deadline = time.monotonic() + limit
    while True:
        try:
            if subprocess.run(
                probe, env=env, capture_output=True, text=True, timeout=60
            ).stdout.strip() == str(count):
                return
        except subprocess.TimeoutExpired:
            pass
        logs = "\n".join(p.read_text()[-1500:] for p in sorted(tmp.glob("ray-*.log")))
        assert time.monotonic() < deadline, f"{count} Ray node(s) not up after {limit:.0f} s:\n{logs}"
        time.sleep(2)


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_a_head_and_a_worker_started_with_ray_start_share_the_run(sources, tmp_path):
    """Two Ray nodes on 127.0.0.1 (`ray start`, 1 CPU each), the CLI connecting by address with a pool of
    two 1-CPU actors (so one on each node): the same bytes as the local run."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        **os.environ,
        "PYTHONPATH": str(Path(__file__).parents[1]),
        "RAY_AUTH_MODE": "disabled",
        "COLUMNS": "250",
    }
    address = f"127.0.0.1:{port}"
    nodes = [
        _ray_start(
            "--head",
            f"--port={port}",
            "--node-ip-address=127.0.0.1",
            "--num-cpus=1",
            "--include-dashboard=false",
            env=env,
            tmp=tmp_path,
        )
    ]
    try:
        _wait_for_nodes(address, 1, env, tmp_path)
        nodes.append(
            _ray_start(
                f"--address={address}", "--node-ip-address=127.0.0.1", "--num-cpus=1", env=env, tmp=tmp_path
            )
        )
        _wait_for_nodes(address, 2, env, tmp_path)
        local, remote = tmp_path / "local", tmp_path / "ray"
        run(folder_or_glob(str(sources)), local, DEFAULTS, workers=0)
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "lowlight_cli",
                "synth",
                "--src",
                str(sources),
                "--out",
                str(remote),
                "--ray",
                address,
                "--ray-actors",
                "2",
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        printed = done.stdout + done.stderr
        assert done.returncode == 1, printed  # the two broken sources
        assert "Ray cluster: 2 nodes, 2 CPUs" in printed
        assert "4 pairs written, 0 already done, 1 rejected, 2 unreadable or failed" in printed
        assert tree_bytes(remote) == tree_bytes(local)
    finally:
        for node in reversed(nodes):
            os.killpg(node.pid, 15)
            node.wait(60)
    shutil.rmtree(tmp_path / "ray", ignore_errors=True)
