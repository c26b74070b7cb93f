"""The production digit CNN: a compact VGG-style network with BatchNorm.

Layout (channels ``c`` = ``width``): 3x3 conv c, 3x3 conv c, 5x5 stride-2 conv c (a learnt
downsampling), 3x3 conv 2c, 3x3 conv 2c, 5x5 stride-2 conv 2c, 4x4 conv 4c to 1x1, linear.
Strided 5x5 convolutions replace max-pooling because they learn what to keep, and dropout after
each stage stops the net from memorising the 55k training digits. With ``width=32`` it has
about 327k parameters and 15M multiply-adds per digit.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from ml.models.layers import InputNormalize, conv_bn_relu
from ml.models.registry import register_model


@register_model("digit_cnn")
class DigitCNN(nn.Module):
    """``image`` float ``[N,1,28,28]`` in 0..1 -> logits float ``[N,num_classes]``."""

    def __init__(self, num_classes: int = 10, width: int = 32, dropout: float = 0.3) -> None:
        super().__init__()
        c = width
        self.normalize = InputNormalize()
        self.features = nn.Sequential(
            conv_bn_relu(1, c, 3),  # 26x26
            conv_bn_relu(c, c, 3),  # 24x24
            conv_bn_relu(c, c, 5, stride=2, padding=2),  # 12x12
            nn.Dropout(dropout),
            conv_bn_relu(c, 2 * c, 3),  # 10x10
            conv_bn_relu(2 * c, 2 * c, 3),  # 8x8
            conv_bn_relu(2 * c, 2 * c, 5, stride=2, padding=2),  # 4x4
            nn.Dropout(dropout),
            conv_bn_relu(2 * c, 4 * c, 4),  # 1x1
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Dropout(dropout), nn.Linear(4 * c, num_classes)
        )

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(self.normalize(image)))
