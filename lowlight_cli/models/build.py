"""The network a config describes, whatever its architecture (`models.config.ARCHS`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lowlight_cli.models.config import AgLLNetConfig, LiteConfig, config_from_dict

if TYPE_CHECKING:
    from typing import TypeAlias

    from lowlight_cli.models.agllnet import AgLLNet
    from lowlight_cli.models.lite import AgLLNetLite

    Network: TypeAlias = AgLLNet | AgLLNetLite
    """Any network of the family: both have `config`, `attention(x)` and `local(x, attention)`."""


def build_model(config: AgLLNetConfig | LiteConfig | dict[str, Any]) -> Network:
    """`AgLLNet` or `AgLLNetLite` for a config (or a config dict with its `arch`)."""
    if isinstance(config, dict):
        config = config_from_dict(config)
    if isinstance(config, LiteConfig):
        from lowlight_cli.models.lite import AgLLNetLite

        return AgLLNetLite(config)
    from lowlight_cli.models.agllnet import AgLLNet

    return AgLLNet(config)
