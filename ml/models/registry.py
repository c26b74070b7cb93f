"""The model registry: architectures by name, rebuilt from (name, args) in checkpoints."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch.nn as nn

from ml.errors import UnknownModelError

_REGISTRY: dict[str, Callable[..., nn.Module]] = {}


def register_model(name: str) -> Callable[[Callable[..., nn.Module]], Callable[..., nn.Module]]:
    """Decorator that registers a model factory (a class or function) under ``name``."""

    def decorate(factory: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        if name in _REGISTRY:
            raise ValueError(f"model {name!r} is already registered")
        _REGISTRY[name] = factory
        return factory

    return decorate


def model_names() -> list[str]:
    """Names of every registered model, sorted."""
    return sorted(_REGISTRY)


def create_model(name: str, **args: Any) -> nn.Module:
    """Build the registered model ``name`` with keyword ``args`` (weights freshly initialised)."""
    try:
        factory = _REGISTRY[name]
    except KeyError:
        raise UnknownModelError(
            f"unknown model {name!r}; registered: {', '.join(model_names())}"
        ) from None
    return factory(**args)
