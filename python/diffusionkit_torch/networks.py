"""The networks this trainer trains: their command-line names (``--model``, .NET's ``TrainableNetworks``), their
``config.json`` ``model.type`` names (.NET's ``ContextUnetType.TypeName`` and ``AttentionUnetType.TypeName``) and the
classes that build them. Both read the same ``model`` fields (``in_channels``, ``n_feat``, ``n_cfeat``, ``height``:
``ModelOptions``) with the same limits.

This is the one home of these names; the rest of the package asks here.
"""

from __future__ import annotations

import torch.nn as nn

CONTEXT_UNET = "context-unet"
ATTENTION_UNET = "attention-unet"

# Command-line name -> config.json model.type, in .NET's TrainableNetwork order.
TYPE_NAMES = {CONTEXT_UNET: "ContextUnet", ATTENTION_UNET: "AttentionUnet"}
NAMES = tuple(TYPE_NAMES)


def type_name(network: str) -> str:
    """The ``model.type`` of a network's checkpoints (``ContextUnet``, ``AttentionUnet``)."""
    try:
        return TYPE_NAMES[network]
    except KeyError:
        raise ValueError(f"model must be one of {', '.join(NAMES)}, not '{network}'.") from None


def from_type_name(name: object) -> str | None:
    """The network a ``model.type`` names, or None when it is not one this trainer trains."""
    for network, type_ in TYPE_NAMES.items():
        if name == type_:
            return network
    return None


def supported_types() -> str:
    """The ``model.type`` values this trainer reads, for messages: "ContextUnet, AttentionUnet"."""
    return ", ".join(TYPE_NAMES.values())


def network_class(network: str) -> type[nn.Module]:
    """The class of a network (imported here, so this module has no import cycle with ``model``)."""
    type_name(network)
    if network == ATTENTION_UNET:
        from .attention_unet import AttentionUnet
        return AttentionUnet
    from .model import ContextUnet
    return ContextUnet


def create(options, seed: int | None = None) -> nn.Module:
    """A new network of ``options.network`` (``ModelOptions``); with ``seed``, its weights as .NET's
    ``new ContextUnet(options, seed)`` / ``new AttentionUnet(options, seed)`` draw them (bit-identical)."""
    cls = network_class(options.network)
    return cls(options) if seed is None else cls.seeded(options, seed)
