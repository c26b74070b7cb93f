"""LeNet-5 (LeCun et al. 1998), the classic baseline, with ReLU and max-pooling."""

from __future__ import annotations

import torch
import torch.nn as nn

from ml.models.layers import InputNormalize
from ml.models.registry import register_model


@register_model("lenet5")
class LeNet5(nn.Module):
    """LeNet-5: ``image`` float ``[N,1,28,28]`` in 0..1 -> logits float ``[N,num_classes]``.

    The 28x28 input is padded to 32x32 as in the paper; about 62k parameters, 0.42M MACs.
    """

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.normalize = InputNormalize()
        self.features = nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(16 * 5 * 5, 120),
            nn.ReLU(inplace=True),
            nn.Linear(120, 84),
            nn.ReLU(inplace=True),
            nn.Linear(84, num_classes),
        )

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(self.normalize(image)))
