"""The network a config describes, whatever its architecture (`models.config.ARCHS`)."""

from __future__ import annotations

from typing import Any

from torch import nn

from lowlight_cli.models.config import AgLLNetConfig, LiteConfig, config_from_dict


def build_model(config: AgLLNetConfig | LiteConfig | dict[str, Any]) -> nn.Module:
    """`AgLLNet` or `AgLLNetLite` for a config (or a config dict with its `arch`)."""
    if isinstance(config, dict):
        config = config_from_dict(config)
    if isinstance(config, LiteConfig):
        from lowlight_cli.models.lite import AgLLNetLite

        return AgLLNetLite(config)
    from lowlight_cli.models.agllnet import AgLLNet

    return AgLLNet(config)
