#!/usr/bin/env python3
"""Regenerates the example gallery's images and annotations under content/datasets/.

The images are synthetic but shaped like the data labs publish: an 8-bit FIB-SEM z-stack,
a 16-bit serial-section EM tile with a narrow value range (it must be contrast-stretched, not
shown black), an RGB confocal image, and a private dataset. Deterministic (fixed seeds).
Needs numpy, pillow and tifffile (pip install numpy pillow tifffile).
"""
import math
import pathlib

import numpy as np
import tifffile
from PIL import Image

ROOT = pathlib.Path(__file__).resolve().parent.parent / "content" / "datasets"


def cells(h, w, n, rng):
    """Distance to nearest and second-nearest seed: membranes where they are equal."""
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    pts = rng.uniform([0, 0], [h, w], size=(n, 2)).astype(np.float32)
    d = np.stack([np.hypot(ys - py, xs - px) for py, px in pts])
    d.sort(axis=0)
    return d[0], d[1], ys, xs


def em_section(h, w, seed, z=0.0):
    rng = np.random.default_rng(seed)
    d1, d2, ys, xs = cells(h, w, 28, rng)
    membrane = np.exp(-((d2 - d1) ** 2) / 10.0)
    ves = np.zeros((h, w), np.float32)
    for _ in range(90):
        cy, cx, r = rng.uniform(0, h), rng.uniform(0, w), rng.uniform(2, 5)
        ves = np.maximum(ves, np.exp(-((np.hypot(ys - cy, xs - cx) - r) ** 2) / 1.2))
    mito = np.zeros((h, w), np.float32)
    for _ in range(6):
        cy, cx, a = rng.uniform(0, h), rng.uniform(0, w), rng.uniform(0, math.pi)
        u = (xs - cx) * math.cos(a) + (ys - cy) * math.sin(a)
        v = -(xs - cx) * math.sin(a) + (ys - cy) * math.cos(a)
        mito = np.maximum(mito, np.exp(-((u / 28) ** 2 + (v / 9) ** 2) * 2))
    smooth = np.sin(xs / 37.0 + z) * np.cos(ys / 53.0 - z) * 6
    img = 185 - 140 * membrane - 70 * ves - 60 * mito + smooth + rng.normal(0, 3.5, (h, w))
    return np.clip(img, 0, 255)


def main():
    stack = ROOT / "cortex-fibsem"
    for i in range(3):
        Image.fromarray(em_section(400, 400, 11, z=i * 0.35).astype(np.uint8)).save(stack / f"slice-{i + 1}.png", optimize=True)

    # 16-bit with a narrow range (1100..1900 of 65535): shown black without a stretch.
    sbem = em_section(384, 384, 23)
    tifffile.imwrite(ROOT / "hippocampus-sbem" / "tile.tif", (1100 + sbem / 255 * 800).astype(np.uint16), compression="zlib")

    rng = np.random.default_rng(5)
    h, w = 360, 480
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    rgb = np.zeros((h, w, 3), np.float32)
    for _ in range(40):
        cy, cx, r = rng.uniform(0, h), rng.uniform(0, w), rng.uniform(6, 14)
        blob = np.exp(-(np.hypot(ys - cy, xs - cx) / r) ** 2)
        rgb[..., rng.integers(0, 2)] += 230 * blob
        rgb[..., 2] += 90 * np.exp(-(np.hypot(ys - cy, xs - cx) / (r * 0.4)) ** 2)
    rgb += rng.normal(0, 4, rgb.shape) + 8
    Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8)).save(ROOT / "zebrafish-confocal" / "retina.jpg", quality=86)

    Image.fromarray(em_section(384, 384, 42).astype(np.uint8)).save(ROOT / "drosophila-vnc" / "section.png", optimize=True)


if __name__ == "__main__":
    main()
