"""Small building blocks shared by the registered models."""

from __future__ import annotations

import torch
import torch.nn as nn

# MNIST training-set pixel mean and standard deviation on the 0..1 scale. Normalizing inside the
# model keeps the ONNX contract simple: callers always feed raw 0..1 pixels.
MNIST_MEAN = 0.1307
MNIST_STD = 0.3081


class InputNormalize(nn.Module):
    """Map 0..1 pixels to zero mean, unit variance with the fixed MNIST statistics."""

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return (image - MNIST_MEAN) / MNIST_STD


def conv_bn_relu(
    in_channels: int, out_channels: int, kernel: int, stride: int = 1, padding: int = 0
) -> nn.Sequential:
    """Conv (no bias, BatchNorm supplies it) -> BatchNorm -> ReLU."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel, stride=stride, padding=padding, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )
