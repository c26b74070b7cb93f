"""Training of the digit models (imports torch)."""

from ml.training.config import TrainConfig
from ml.training.run import TrainResult, train_digits

__all__ = ["TrainConfig", "TrainResult", "train_digits"]
