"""onnxruntime execution of the exported attention and local graphs; imports neither torch nor the model.

Providers are chosen explicitly (onnxruntime-gpu otherwise silently runs on the CPU), and the ones a
session actually got are reported, because "available" does not mean "loaded" (missing CUDA libraries).
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np

from lowlight_cli.errors import DeviceError
from lowlight_cli.models.config import config_from_dict
from lowlight_cli.weights.registry import OnnxGraphs

CPU, CUDA, TENSORRT = "CPUExecutionProvider", "CUDAExecutionProvider", "TensorrtExecutionProvider"
SHORT = {CPU: "cpu", CUDA: "cuda", TENSORRT: "tensorrt"}


def _device_id(device: str) -> int:
    return int(device.partition(":")[2] or 0)


def choose_providers(
    device: str, tensorrt: bool, available: list[str], half: bool = False
) -> list[tuple[str, dict]]:
    """Priority-ordered (provider, options): TensorRT only when asked, CUDA for cuda/auto, CPU always last.

    An explicit `cuda` (or TensorRT) that this onnxruntime build cannot provide fails loudly.
    """
    if tensorrt and device == "cpu":
        raise DeviceError(
            "backend onnx-tensorrt runs on an NVIDIA GPU only; on the CPU use the onnx backend",
            param="backend",
        )
    want_gpu = device.startswith("cuda") or tensorrt or (device == "auto" and CUDA in available)
    if not want_gpu:
        return [(CPU, {})]
    missing = [p for p in ([TENSORRT] if tensorrt else []) + [CUDA] if p not in available]
    if missing and tensorrt:
        raise DeviceError(
            f"backend onnx-tensorrt: onnxruntime lacks {', '.join(missing)} "
            f"(available: {', '.join(available)}); it needs the `gpu` extra (onnxruntime-gpu) with TensorRT "
            "installed, else use the onnx backend",
            param="backend",
        )
    if missing:
        raise DeviceError(
            f"device {device}: onnxruntime lacks {', '.join(missing)} (available: {', '.join(available)}); "
            "install the `gpu` extra (onnxruntime-gpu) and not the `cpu` one, or run on the CPU",
            param="device",
        )
    gpu = _device_id(device)
    providers: list[tuple[str, dict]] = []
    if tensorrt:
        cache = Path(os.environ.get("XDG_CACHE_HOME", "~/.cache")).expanduser() / "lowlight" / "tensorrt"
        trt = {"device_id": gpu, "trt_fp16_enable": half, "trt_engine_cache_enable": True}
        providers.append((TENSORRT, {**trt, "trt_engine_cache_path": str(cache)}))
    return providers + [(CUDA, {"device_id": gpu}), (CPU, {})]


UNLOADABLE = ("InvalidProtobuf", "InvalidGraph", "NoSuchFile", "NoModel", "NotImplemented")
"""onnxruntime's errors for a graph file it cannot read or build: damaged, truncated,
from an unknown opset."""


def open_session(ort, path: Path, options, providers):
    """An InferenceSession on one graph; a graph onnxruntime cannot load is a one-line WeightsError naming
    it."""
    from lowlight_cli.errors import WeightsError

    try:
        return ort.InferenceSession(str(path), options, providers=providers)
    except Exception as exc:  # noqa: BLE001 - onnxruntime's error classes live in its private pybind module
        if type(exc).__name__ not in UNLOADABLE:
            raise
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        reason = reason.split(" failed:", 1)[-1].strip() or reason  # "Load model from <path> failed:<why>"
        raise WeightsError(
            f"{path}: onnxruntime cannot load this ONNX graph ({type(exc).__name__}: {reason}); "
            "the graph is damaged or from an incompatible export: re-run `lowlight export`"
        ) from None


class OnnxBackend:
    """The `Backend` protocol on onnxruntime; fp16 graphs (CUDA only) fall back to fp32 on NaN/inf output.

    `precision` is fp32, fp16 or auto (`lowlight_cli.inference.precision`); `half=True` means fp16.
    """

    def __init__(
        self,
        graphs: OnnxGraphs,
        device: str = "auto",
        half: bool = False,
        tensorrt: bool = False,
        threads: int = 0,
        precision: str | None = None,
    ) -> None:
        import onnxruntime as ort

        from lowlight_cli.inference.precision import resolve_precision

        self._ort = ort
        requested = precision or ("fp16" if half else "fp32")
        providers = choose_providers(device, tensorrt, ort.get_available_providers())
        self.device_type = "cpu" if providers[0][0] == CPU else "cuda"
        self.device_id = _device_id(device)
        self.precision = resolve_precision(requested, "onnx", self.device_type, graphs)
        half = self.precision == "fp16"
        if half:
            providers = choose_providers(device, tensorrt, ort.get_available_providers(), half)
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = threads
        # Tiles differ in shape (edges), and a memory pattern is planned and kept for each shape.
        options.enable_mem_pattern = False
        self._open = lambda path: open_session(ort, path, options, providers)
        self._graphs = graphs
        self._sessions: dict[tuple[str, str], object] = {}
        in_use = self._session("attention", self.precision).get_providers()
        if self.device_type == "cuda" and CUDA not in in_use:
            raise DeviceError(
                f"device {device}: onnxruntime could not load CUDA (providers in use: {', '.join(in_use)}); "
                "check that the CUDA and cuDNN versions match the onnxruntime-gpu wheel",
                param="device",
            )
        cfg = self.config = config_from_dict(graphs.config)
        self.attention_multiple = cfg.attention_multiple
        self.local_multiple = cfg.local_multiple
        self.local_radius = cfg.local_radius
        precision = "float16 (NaN guard: fp32 fallback)" if self.precision == "fp16" else "float32"
        used = "+".join(SHORT.get(p, p) for p in in_use)
        self.description = f"onnxruntime {ort.__version__} [{used}], {precision}"
        self.fp32_fallbacks = 0

    def _session(self, stage: str, precision: str):
        """Sessions are created on first use, so the fp32 fallback graphs cost nothing until needed."""
        key = (stage, precision)
        if key not in self._sessions:
            self._sessions[key] = self._open(self._graphs.graphs[precision][stage])
        return self._sessions[key]

    def _run(self, stage: str, feeds: dict[str, np.ndarray]) -> np.ndarray:
        out = self._run_session(self._session(stage, self.precision), feeds)
        if self.precision == "fp16" and not np.isfinite(out).all():
            self.fp32_fallbacks += 1
            if self.fp32_fallbacks == 1:
                warnings.warn("fp16 produced NaN/inf; recomputing affected tiles in fp32", stacklevel=3)
            out = self._run_session(self._session(stage, "fp32"), feeds)
        return out

    def _run_session(self, session, feeds: dict[str, np.ndarray]) -> np.ndarray:
        if self.device_type == "cpu":
            return session.run(None, feeds)[0]
        # IO binding: inputs are copied to the GPU once and the output stays there until the final copy back.
        ort = self._ort
        binding = session.io_binding()
        for name, array in feeds.items():
            binding.bind_ortvalue_input(name, ort.OrtValue.ortvalue_from_numpy(array, "cuda", self.device_id))
        binding.bind_output(session.get_outputs()[0].name, "cuda", self.device_id)
        session.run_with_iobinding(binding)
        return binding.copy_outputs_to_cpu()[0]

    def attention(self, image: np.ndarray) -> np.ndarray:
        return self._run("attention", {"image": image})

    def local(self, image: np.ndarray, attention: np.ndarray) -> np.ndarray:
        return self._run("local", {"image": image, "attention": attention})
