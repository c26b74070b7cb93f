"""Batched digit augmentation as torch ops, run on the training device (CPU or GPU).

One ``grid_sample`` applies a random affine map (rotation, scale, shear, translation) plus a
smooth elastic displacement field; a max-pool then thickens or thins strokes for part of the
batch, and a Gaussian blur of random width softens part of it (scans differ in sharpness).
Inputs and outputs are float ``[N, 1, H, W]`` in 0..1, white ink on black.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class AugmentConfig:
    """Strength of each augmentation; zero switches one off.

    Angles are in degrees, translation in pixels, ``elastic_alpha`` is the peak displacement in
    pixels and ``elastic_sigma`` the smoothing of the field in pixels.
    """

    rotation_deg: float = 10.0
    scale_range: float = 0.10
    shear_deg: float = 8.0
    translate_px: float = 2.0
    elastic_prob: float = 0.5
    elastic_alpha: float = 1.5
    elastic_sigma: float = 3.0
    thickness_prob: float = 0.25
    # Share of the batch blurred, with a sigma drawn in [0.2, blur_sigma] pixels. Off by default:
    # the held-out negatives are augmented with the defaults and must stay the same sets.
    blur_prob: float = 0.0
    blur_sigma: float = 1.0


def _affine_matrices(n: int, cfg: AugmentConfig, generator: torch.Generator, device, size: int):
    def uniform(low: float, high: float) -> torch.Tensor:
        return torch.rand(n, generator=generator, device=device) * (high - low) + low

    angle = uniform(-cfg.rotation_deg, cfg.rotation_deg) * (math.pi / 180)
    shear = uniform(-cfg.shear_deg, cfg.shear_deg) * (math.pi / 180)
    scale_x = uniform(1 - cfg.scale_range, 1 + cfg.scale_range)
    # Independent x/y scale within a small band also varies the digit's aspect ratio.
    scale_y = scale_x * uniform(1 - cfg.scale_range / 2, 1 + cfg.scale_range / 2)
    # affine_grid works in normalized coordinates where the image spans [-1, 1].
    shift = cfg.translate_px * 2 / size
    tx, ty = uniform(-shift, shift), uniform(-shift, shift)
    cos, sin, tan = torch.cos(angle), torch.sin(angle), torch.tan(shear)
    # The grid maps output pixels to input pixels, so this is the inverse transform;
    # being random and symmetric, its distribution equals that of the forward one.
    a = torch.stack([cos / scale_x, (-sin + cos * tan) / scale_x, tx], dim=1)
    b = torch.stack([sin / scale_y, (cos + sin * tan) / scale_y, ty], dim=1)
    return torch.stack([a, b], dim=1)


def _gaussian_kernel1d(sigma: float, device) -> torch.Tensor:
    radius = max(1, round(3 * sigma))
    x = torch.arange(-radius, radius + 1, device=device, dtype=torch.float32)
    kernel = torch.exp(-(x**2) / (2 * sigma**2))
    return kernel / kernel.sum()


def _elastic_field(n: int, size: int, cfg: AugmentConfig, generator, device) -> torch.Tensor:
    """Smooth random displacement ``[N, H, W, 2]`` in normalized units (Simard et al. 2003)."""
    noise = torch.rand(n * 2, 1, size, size, generator=generator, device=device) * 2 - 1
    kernel = _gaussian_kernel1d(cfg.elastic_sigma, device)
    pad = kernel.numel() // 2
    noise = F.conv2d(F.pad(noise, (pad, pad, 0, 0), mode="reflect"), kernel.view(1, 1, 1, -1))
    noise = F.conv2d(F.pad(noise, (0, 0, pad, pad), mode="reflect"), kernel.view(1, 1, -1, 1))
    # Rescale each field so its peak displacement is elastic_alpha pixels.
    peak = noise.flatten(1).abs().amax(dim=1).clamp_min(1e-6).view(-1, 1, 1, 1)
    field = noise / peak * (cfg.elastic_alpha * 2 / size)
    apply = torch.rand(n, generator=generator, device=device) < cfg.elastic_prob
    field = field.view(n, 2, size, size) * apply.view(n, 1, 1, 1)
    return field.permute(0, 2, 3, 1)


def blur_random(images: torch.Tensor, mask: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """Blur the images selected by ``mask`` with a Gaussian of per-image ``sigma`` (pixels).

    ``images`` float ``[N,1,H,W]``; ``mask`` bool ``[N]``; ``sigma`` float ``[N]``, > 0. One
    grouped convolution per axis, so it runs batched on any device.
    """
    n, _, height, width = images.shape
    radius = max(1, math.ceil(3 * float(sigma.max())))
    x = torch.arange(-radius, radius + 1, device=images.device, dtype=images.dtype)
    kernels = torch.exp(-(x.view(1, -1) ** 2) / (2 * sigma.view(-1, 1).to(images.dtype) ** 2))
    kernels = kernels / kernels.sum(dim=1, keepdim=True)
    flat = images.reshape(1, n, height, width)
    flat = F.conv2d(flat, kernels.view(n, 1, 1, -1), padding=(0, radius), groups=n)
    flat = F.conv2d(flat, kernels.view(n, 1, -1, 1), padding=(radius, 0), groups=n)
    return torch.where(mask.view(-1, 1, 1, 1), flat.view(n, 1, height, width), images)


def stroke_thickness_change(images: torch.Tensor, mask: torch.Tensor, thicken: torch.Tensor):
    """Dilate (``thicken``) or erode the strokes of the images selected by ``mask``.

    ``images`` float ``[N,1,H,W]`` (white on black); ``mask`` and ``thicken`` bool ``[N]``.
    A 3x3 max-pool thickens a stroke by about one pixel; a min-pool thins it.
    """
    dilated = F.max_pool2d(images, 3, stride=1, padding=1)
    eroded = -F.max_pool2d(-images, 3, stride=1, padding=1)
    # Averaging with the original keeps the change to about half a pixel, like pen variation.
    dilated = (dilated + images) / 2
    eroded = (eroded + images) / 2
    changed = torch.where(thicken.view(-1, 1, 1, 1), dilated, eroded)
    return torch.where(mask.view(-1, 1, 1, 1), changed, images)


def augment_batch(
    images: torch.Tensor, cfg: AugmentConfig, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Randomly distort a batch of digits; float ``[N,1,H,W]`` in 0..1 in and out, same device.

    ``generator`` (on the images' device) makes the distortion reproducible.
    """
    if images.ndim != 4 or images.shape[1] != 1:
        raise ValueError(f"augment_batch takes [N,1,H,W], got {tuple(images.shape)}")
    n, _, height, width = images.shape
    if n == 0:
        return images
    device = images.device
    if generator is None:
        generator = torch.Generator(device=device)
        generator.seed()
    theta = _affine_matrices(n, cfg, generator, device, size=width).to(images.dtype)
    grid = F.affine_grid(theta, [n, 1, height, width], align_corners=False)
    if cfg.elastic_prob > 0 and cfg.elastic_alpha > 0:
        grid = grid + _elastic_field(n, width, cfg, generator, device).to(grid.dtype)
    out = F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    if cfg.thickness_prob > 0:
        mask = torch.rand(n, generator=generator, device=device) < cfg.thickness_prob
        thicken = torch.rand(n, generator=generator, device=device) < 0.5
        out = stroke_thickness_change(out, mask, thicken)
    if cfg.blur_prob > 0:
        mask = torch.rand(n, generator=generator, device=device) < cfg.blur_prob
        sigma = 0.2 + torch.rand(n, generator=generator, device=device) * (cfg.blur_sigma - 0.2)
        out = blur_random(out, mask, sigma)
    return out.clamp_(0, 1)
