#!/usr/bin/env python3
"""Writes the images of the 3D view's fixture site (tests/browser/volume3d.mjs): two z-stacks
of rings whose radius and brightness change with depth, so every plane of the volume, xy, xz
and yz, shows structure, a 16-bit segmentation of the public one (cells.tif), and a thumbnail for the remote volume's dataset. Deterministic: run it
again and the files are byte for byte the same. Generated here, so no licence applies beyond
the repository's."""
import math
from pathlib import Path

from PIL import Image

HERE = Path(__file__).parent / "content" / "datasets"


def slice_image(width, height, z, depth):
    img = Image.new("L", (width, height))
    px = img.load()
    for y in range(height):
        for x in range(width):
            r = math.hypot(x - width / 2, y - height / 2)
            ring = 0.5 + 0.5 * math.cos(r / (3 + z) )
            fade = 0.3 + 0.7 * (z + 1) / depth
            px[x, y] = int(30 + 200 * ring * fade)
    return img


for name, (w, h, d) in {"stack": (160, 120, 8), "sealed-stack": (64, 64, 4)}.items():
    for z in range(d):
        slice_image(w, h, z, d).save(HERE / name / f"slice-{z}.png", optimize=True)
slice_image(48, 40, 1, 3).save(HERE / "lab-volume" / "thumb.png", optimize=True)


def cells(width, height, z):
    """The stack's segmentation: two boxes in the lower-left corner (ids 7 and 300, so 16-bit),
    away from where the 3D test compares the xy plane with the source."""
    img = Image.new("I;16", (width, height))
    px = img.load()
    for y in range(height - 30, height):
        for x in range(0, 40):
            px[x, y] = 7 if x < 20 else 300 if z >= 2 else 0
    return img


pages = [cells(160, 120, z) for z in range(8)]
pages[0].save(HERE / "stack" / "cells.tif", save_all=True, append_images=pages[1:])
