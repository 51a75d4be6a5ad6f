"""Import the authors' released AgLLNet from its ONNX conversion (Keras h5 -> TF -> ONNX, opset 11).

No node names are hard-coded (they differ between conversions). Instead each sub-network's convolutions
are found by walking the graph's main data path *backwards* from the outputs, counting as many convs as
the PyTorch module has, and matched to the PyTorch layers in execution order.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from lowlight_cli.errors import FileError, WeightsError
from lowlight_cli.models.agllnet import AgLLNet
from lowlight_cli.models.config import AgLLNetConfig

if TYPE_CHECKING:  # onnx loads in _Graph
    from onnx import NodeProto

Conv = nn.Conv2d | nn.ConvTranspose2d

_CONVS = ("Conv", "ConvTranspose")
_PASS = ("Relu", "Sigmoid", "Resize", "Transpose")


class _Graph:
    def __init__(self, path: Path) -> None:
        import onnx
        from onnx import numpy_helper

        try:
            model = onnx.load(str(path))
        except Exception as exc:  # onnx raises DecodeError, OSError, ... depending on the damage
            raise FileError(path, f"not a readable ONNX model ({exc.__class__.__name__})") from None
        g = model.graph
        self.inits = {i.name: numpy_helper.to_array(i) for i in g.initializer}
        self.producer = {out: n for n in g.node for out in n.output}
        self.consumers: dict[str, list] = {}
        for n in g.node:
            for i in n.input:
                self.consumers.setdefault(i, []).append(n)
        self.output = g.output[0].name
        self.path = path

    def walk(self, tensor: str, count: int) -> list:
        """The last `count` convs on the main path ending at `tensor`, in execution order."""
        found: list = []
        while len(found) < count:
            node = self.producer.get(tensor)
            if node is None:
                raise WeightsError(
                    f"{self.path}: graph ended after {len(found)} of {count} expected convolutions"
                )
            if node.op_type in _CONVS:
                found.append(node)
                tensor = node.input[0]
            elif node.op_type in _PASS or node.op_type == "Concat":
                tensor = node.input[0]  # decoder concats list the upsampled path first, the skip second
            elif node.op_type == "Add":
                tensor = self._add_main_input(node)
            else:
                raise WeightsError(f"{self.path}: unexpected {node.op_type} node on the main path")
        return found[::-1]

    def _add_main_input(self, node) -> str:
        data = [i for i in node.input if i not in self.inits]
        if len(data) == 1:  # bias add after a transposed conv
            return data[0]
        # residual add: follow the conv branch, the identity input is reached through it
        convs = [i for i in data if self.producer.get(i) is not None and self.producer[i].op_type in _CONVS]
        return convs[0]

    def params(self, node) -> tuple[np.ndarray, np.ndarray | None]:
        weight = self.inits[node.input[1]]
        if len(node.input) > 2:
            return weight, self.inits[node.input[2]]
        for consumer in self.consumers.get(node.output[0], []):
            if consumer.op_type == "Add":
                bias = [self.inits[i] for i in consumer.input if i in self.inits]
                if bias:
                    return weight, bias[0].reshape(-1)
        return weight, None


def _convs(module: nn.Module) -> list[Conv]:
    return [m for m in module.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]


def import_official_onnx(path: str | Path) -> AgLLNet:
    """Build the released AgLLNet and fill it with the ONNX file's weights."""
    path = Path(path)
    if not path.is_file():
        raise FileError(path, "file not found")
    g = _Graph(path)
    model = AgLLNet(AgLLNetConfig.official())
    out = g.producer[g.output]
    stack = g.producer[out.input[0]] if out.op_type == "Transpose" else out
    if stack.op_type != "Concat" or len(stack.input) != 4:
        raise WeightsError(f"{path}: output is not the released model's [E, A, R, X] stack")
    enhanced, attention, reinforced, _ = stack.input

    pairs: list[tuple[Conv, NodeProto]] = []

    def match(module: nn.Module, tensor: str) -> str:
        """Pair `module`'s convs with the graph's; return the tensor that feeds the first of them."""
        layers = _convs(module)
        nodes = g.walk(tensor, len(layers))
        pairs.extend(zip(layers, nodes, strict=True))  # walk() returns exactly len(layers) or raises
        return nodes[0].input[0]

    match(model.attention_net, attention)
    match(model.reinforce_net, reinforced)
    fusion = g.producer[enhanced]
    pairs.append((model.enhancement_net.fusion, fusion))
    branch_outputs = g.producer[fusion.input[0]].input[1:]
    branches = model.enhancement_net.branches
    if len(branch_outputs) != len(branches):
        raise WeightsError(
            f"{path}: the fusion takes {len(branch_outputs)} branch outputs, the released model "
            f"{len(branches)}"
        )
    feature = [match(branch, tensor) for branch, tensor in zip(branches, branch_outputs, strict=True)][-1]
    concat = g.producer[feature]
    if concat.op_type == "Concat":  # last branch gets [A, F10]
        feature = concat.input[1]
    fem = nn.ModuleList(model.enhancement_net.fem)
    match(fem, feature)

    state: dict[int, tuple[torch.Tensor, torch.Tensor | None]] = {}
    for layer, node in pairs:
        weight, bias = g.params(node)
        if tuple(weight.shape) != tuple(layer.weight.shape):
            raise WeightsError(f"{path}: weight shape {weight.shape} does not fit {layer} ({node.name})")
        state[id(layer)] = (
            torch.from_numpy(weight.copy()),
            None if bias is None else torch.from_numpy(bias.copy()),
        )
    if len(state) != len(_convs(model)):
        raise WeightsError(f"{path}: matched {len(state)} of {len(_convs(model))} layers")
    with torch.no_grad():
        for layer in _convs(model):
            weight_t, bias_t = state[id(layer)]
            layer.weight.copy_(weight_t)
            if bias_t is None or layer.bias is None:
                raise WeightsError(f"{path}: no bias found for {layer}")
            layer.bias.copy_(bias_t)
    return model.eval()


def compare_with_onnx(
    model: AgLLNet, onnx_path: str | Path, image: np.ndarray | None = None
) -> dict[str, float]:
    """Max abs difference per output between `model` and onnxruntime running the released graph.

    `image` is HxWx3 in [0, 1] at the graph's fixed input size; random when omitted.
    """
    import onnxruntime as ort

    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    spec = session.get_inputs()[0]
    _, _, h, w = spec.shape
    if image is None:
        image = np.random.default_rng(0).random((h, w, 3), dtype=np.float32)
    x = np.ascontiguousarray(image.transpose(2, 0, 1)[None], dtype=np.float32)
    ref = session.run(None, {spec.name: x})[0][0].transpose(2, 0, 1)  # NHWC [E, A, R, X] -> CHW
    with torch.inference_mode():
        out = model.eval()(torch.from_numpy(x))
    ours = {
        "enhanced": out.enhanced,
        "attention": out.attention,
        "reinforced": out.reinforced,
        "brightened": out.brightened,
    }
    slices = {
        "enhanced": slice(0, 3),
        "attention": slice(3, 4),
        "reinforced": slice(4, 7),
        "brightened": slice(7, 10),
    }
    return {k: float(np.abs(ours[k][0].numpy() - ref[slices[k]]).max()) for k in ours}
