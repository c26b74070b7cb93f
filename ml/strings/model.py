"""The string CRNN: a CNN that pools height 32 -> 1 and width by 4, a BiLSTM, a CTC head."""

from __future__ import annotations

import torch
import torch.nn as nn

from ml.models.layers import InputNormalize, conv_bn_relu
from ml.models.registry import register_model
from ml.strings import NUM_CLASSES


@register_model("string_crnn")
class StringCRNN(nn.Module):
    """``image`` float ``[N,1,32,W]`` in 0..1 (W a multiple of 4) -> logits ``[N, W/4, 11]``.

    Channels ``c, 2c, 4c, 4c, 4c``; two 2x2 pools halve height and width, two (2,1) pools and a
    (2,1) convolution take the height to 1 while keeping 4 columns per frame, so a narrow "1"
    still gets a few frames. Class 10 is the CTC blank.
    """

    def __init__(self, width: int = 16, hidden: int = 96, dropout: float = 0.1) -> None:
        super().__init__()
        c = width
        self.normalize = InputNormalize()
        self.features = nn.Sequential(
            conv_bn_relu(1, c, 3, padding=1),
            nn.MaxPool2d(2),  # 16 x W/2
            conv_bn_relu(c, 2 * c, 3, padding=1),
            nn.MaxPool2d(2),  # 8 x W/4
            conv_bn_relu(2 * c, 4 * c, 3, padding=1),
            conv_bn_relu(4 * c, 4 * c, 3, padding=1),
            nn.MaxPool2d((2, 1)),  # 4 x W/4
            conv_bn_relu(4 * c, 4 * c, 3, padding=1),
            nn.MaxPool2d((2, 1)),  # 2 x W/4
            conv_bn_relu(4 * c, 4 * c, (2, 1)),  # 1 x W/4
            nn.Dropout(dropout),
        )
        self.rnn = nn.LSTM(4 * c, hidden, batch_first=True, bidirectional=True)
        self.head = nn.Linear(2 * hidden, NUM_CLASSES)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        frames = self.features(self.normalize(image)).squeeze(2).transpose(1, 2)  # [N, T, C]
        out, _ = self.rnn(frames)
        return self.head(out)
