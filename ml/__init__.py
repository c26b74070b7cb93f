"""Digit recognition models: data readers, augmentation, training, evaluation, export, inference.

A plain library: it never imports Django, and importing :mod:`ml` or :mod:`ml.infer` does not
import torch, so web and worker processes that only run inference stay light.
"""

__version__ = "0.1.0"
