"""Model architectures and their registry.

Importing this package registers every architecture, so ``create_model(name, **args)`` can
rebuild any model named in a checkpoint.
"""

from ml.models import digit_cnn, lenet  # noqa: F401  (registers the architectures)
from ml.models.complexity import macs_per_sample, parameter_count
from ml.models.registry import create_model, model_names, register_model
from ml.strings import model as _string_model  # noqa: F401  (registers string_crnn)

__all__ = ["create_model", "macs_per_sample", "model_names", "parameter_count", "register_model"]
