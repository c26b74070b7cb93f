"""Parameter and multiply-add counts, measured by running one input through the model."""

from __future__ import annotations

import torch
import torch.nn as nn


def parameter_count(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def macs_per_sample(model: nn.Module, input_shape: tuple[int, ...] = (1, 28, 28)) -> int:
    """Multiply-adds of convolutions and linear layers for one input of ``input_shape``.

    BatchNorm, activations and pooling are left out, as is usual when quoting MACs; BatchNorm
    folds into the preceding convolution at export anyway.
    """
    total = 0

    def conv_hook(module: nn.Conv2d, _inputs, output: torch.Tensor) -> None:
        nonlocal total
        kernel_macs = (
            module.in_channels // module.groups * module.kernel_size[0] * module.kernel_size[1]
        )
        total += output[0].numel() * kernel_macs

    def linear_hook(module: nn.Linear, _inputs, output: torch.Tensor) -> None:
        nonlocal total
        total += output[0].numel() * module.in_features

    handles = []
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            handles.append(module.register_forward_hook(conv_hook))
        elif isinstance(module, nn.Linear):
            handles.append(module.register_forward_hook(linear_hook))
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            device = next(model.parameters()).device
            model(torch.zeros(1, *input_shape, device=device))
    finally:
        model.train(was_training)
        for handle in handles:
            handle.remove()
    return int(total)
