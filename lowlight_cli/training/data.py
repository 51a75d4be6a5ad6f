"""Training data for AgLLNet: pairs read from a `lowlight synth` folder, or synthesized on the fly.

Both datasets yield dicts of float32 CHW tensors in [0, 1] with the same keys and aligned crops:

    low        3xHxW  noisy low-light input
    low_clean  3xHxW  low-light image before noise
    high       3xHxW  normal-light ground truth
    attention  1xHxW  ue-attention ground truth
    noise      3xHxW  signed noise map, low - low_clean (in [-1, 1])
    amplified  3xHxW  contrast-amplified target for Reinforce-Net
    noise_known 1     1 for synthetic pairs, 0 for real pairs (their noise is unknown: the noise loss
                      skips them)

`RealPairs` adds real photographed pairs (LOL layout: same-named images in `low/` and `high/`); a fixed
hash of each name assigns it to the `train` or `test` split (`synth.store.real_split`), so fine-tuning and
`lowlight eval --split` agree on which pairs were held out. Every pair is listed and read through the pair
store (`synth.store.iter_pairs`, `read_pair`), and photos through `io.images.read_rgb`, as `lowlight eval`
reads them: a 16-bit PNG keeps its 16 bits.

Randomness (crop position, flips, on-the-fly synthesis) comes from torch's generator, so
`torch.manual_seed` and DataLoader worker seeding make it reproducible.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np
import torch
from torch.utils.data import ConcatDataset, Dataset

from lowlight_cli.io.images import read_rgb
from lowlight_cli.synth.pairs import KINDS
from lowlight_cli.synth.settings import DEFAULTS, SynthSettings
from lowlight_cli.synth.store import iter_pairs, read_pair


def _crop_flip(arrays: dict[str, np.ndarray], crop: int | None, flip: bool) -> dict[str, np.ndarray]:
    """The same random crop (reflect-padded when the image is smaller) and flips for every HxW[xC] array."""
    h, w = next(iter(arrays.values())).shape[:2]
    if crop:
        ph, pw = max(crop - h, 0), max(crop - w, 0)
        if ph or pw:
            arrays = {
                k: np.pad(a, ((0, ph), (0, pw)) + ((0, 0),) * (a.ndim - 2), mode="reflect")
                for k, a in arrays.items()
            }
            h, w = h + ph, w + pw
        y = int(torch.randint(h - crop + 1, ()))
        x = int(torch.randint(w - crop + 1, ()))
        arrays = {k: a[y : y + crop, x : x + crop] for k, a in arrays.items()}
    vertical, horizontal = (torch.rand(2) < 0.5).tolist() if flip else (False, False)
    arrays = {k: a[::-1] if vertical else a for k, a in arrays.items()}
    return {k: a[:, ::-1] if horizontal else a for k, a in arrays.items()}


def _tensors(arrays: dict[str, np.ndarray], noise_known: bool = True) -> dict[str, torch.Tensor]:
    """HxW[xC] arrays -> float32 CxHxW tensors, plus the `noise_known` flag."""
    chw = {k: a[None] if a.ndim == 2 else a.transpose(2, 0, 1) for k, a in arrays.items()}
    tensors = {k: torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32)) for k, a in chw.items()}
    return {**tensors, "noise_known": torch.tensor([float(noise_known)])}


class SynthPairs(Dataset):
    """Pairs of a `lowlight synth` output folder (its manifest), one split, randomly cropped and flipped.

    Pairs in tar shards (`lowlight synth --tar N`) are read in place, member by member, from shards each
    loader process opens once: a million pairs are a thousand files, not six million.

    `crop=None` returns whole images (batch size 1, or for validation).
    """

    def __init__(
        self, root: str | Path, split: str = "train", crop: int | None = 256, flip: bool = True
    ) -> None:
        from lowlight_cli.errors import LowlightError
        from lowlight_cli.synth.store import pair_layout

        self.root = Path(root)
        if pair_layout(self.root) == "real":
            raise LowlightError(
                f"{self.root}: low/ and high/ photos are real pairs (real_data), not a synth folder"
            )
        self.records = list(iter_pairs(self.root, split))
        self.crop, self.flip = crop, flip

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        return _tensors(_crop_flip(read_pair(self.root, self.records[index]), self.crop, self.flip))


class RealPairs(Dataset):
    """Real photographed pairs (LOL layout), one split, with the targets the losses need: the attention map
    from the spec's formula on the (noisy) low image, the contrast-amplified target of `high`, and a zero
    noise map flagged unknown (`amplify=False`: the target is `high`, for runs that do not use it). Decoded
    images are cached, so each pair is read and amplified once per worker."""

    def __init__(
        self,
        root: str | Path,
        split: str = "train",
        crop: int | None = 256,
        flip: bool = True,
        settings: SynthSettings = DEFAULTS,
        amplify: bool = True,
    ) -> None:
        self.root = Path(root)
        if not ((self.root / "low").is_dir() and (self.root / "high").is_dir()):
            raise FileNotFoundError(f"{self.root}: expected low/ and high/ folders of same-named images")
        self.records = list(iter_pairs(self.root, split))
        self.names = [r.name for r in self.records]
        self.crop, self.flip, self.settings, self.amplify = crop, flip, settings, amplify
        self._cache: dict[int, dict[str, np.ndarray]] = {}

    def __len__(self) -> int:
        return len(self.names)

    def _arrays(self, index: int) -> dict[str, np.ndarray]:
        from lowlight_cli.synth.targets import amplify_contrast, attention_map

        if index not in self._cache:
            name, st = self.names[index], self.settings
            images = read_pair(self.root, self.records[index], ("low", "high"))
            low, high = images["low"], images["high"]
            if low.shape != high.shape:
                raise ValueError(
                    f"{self.root / 'low' / name}: {low.shape[:2]} differs from high/ {high.shape[:2]}"
                )
            amplified = (
                amplify_contrast(high, st.exposures, st.exposure_gamma, st.detail_sigma_s, st.detail_sigma_r)
                if self.amplify
                else high
            )
            self._cache[index] = {
                "high": high,
                "low": low,
                "low_clean": low,
                "attention": attention_map(high, low),
                "noise": np.zeros_like(low),
                "amplified": amplified,
            }
        return self._cache[index]

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        return _tensors(_crop_flip(self._arrays(index), self.crop, self.flip), noise_known=False)


class OnTheFlyPairs(Dataset):
    """Pairs synthesized on every access from a folder (or glob) of normal-light photos, so training
    needs no pairs on disk. Each access draws fresh parameters; the candidate filters are not applied
    (point it at photos that are already well exposed, or at a synth run's `train/high` folder)."""

    def __init__(
        self,
        source: str | Path,
        crop: int | None = 256,
        flip: bool = True,
        settings: SynthSettings = DEFAULTS,
        amplify: bool = True,
        quantize: bool = False,
    ) -> None:
        from lowlight_cli.synth.sources import folder_or_glob

        self.paths = [s.path for s in folder_or_glob(str(source))]
        if not self.paths:
            raise FileNotFoundError(f"{source}: no photos")
        self.crop, self.flip, self.settings, self.amplify = crop, flip, settings, amplify
        self.quantize = quantize

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        from lowlight_cli.synth.pairs import synthesize

        high = _crop_flip({"high": read_rgb(self.paths[index])}, self.crop, self.flip)["high"]
        rng = np.random.default_rng(int(torch.randint(2**62, ())))
        pair = synthesize(
            np.ascontiguousarray(high, dtype=np.float32),
            rng,
            self.settings,
            quantize=self.quantize,
            amplify=self.amplify,
        )
        return _tensors({k: getattr(pair, k) for k in KINDS})


class SizedPairs(Protocol):
    """A map-style dataset of known length (torch's Dataset type declares no `__len__`)."""

    def __len__(self) -> int: ...

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]: ...


class MixedPairs(Dataset):
    """Synthetic pairs with real pairs mixed in at a fixed share of every epoch.

    The epoch holds every synthetic item once and round(n * share / (1 - share)) real items, cycling
    through the real pairs, so `share` is the real fraction of training samples whatever the set sizes.
    """

    def __init__(self, synthetic: SizedPairs, real: SizedPairs, share: float) -> None:
        if not 0 <= share < 1:
            raise ValueError(f"real share {share} is not in [0, 1)")
        self.synthetic, self.real = synthetic, real
        self.n_synth = len(synthetic)
        self.n_real = round(self.n_synth * share / (1 - share)) if len(real) else 0

    def __len__(self) -> int:
        return self.n_synth + self.n_real

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        if index < self.n_synth:
            return self.synthetic[index]
        return self.real[(index - self.n_synth) % len(self.real)]


PairDataset = SynthPairs | RealPairs | OnTheFlyPairs | MixedPairs | ConcatDataset
"""What training reads: one of the pair sets, a mix, or a concatenation of them."""
