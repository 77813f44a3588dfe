#!/usr/bin/env python3
"""Writes the hardening test's site of N tiny datasets (24x24 gray PNG each, every fifth
private, 50 shared tags): bench/tiny-corpus.py OUT_DIR N. It isolates the per-dataset cost of a
build (content, render, leak guard, output) from image work."""
import os
import sys

from PIL import Image

out, n = sys.argv[1], int(sys.argv[2])
os.makedirs(os.path.join(out, "content"), exist_ok=True)
with open(os.path.join(out, "content", "site.yaml"), "w") as f:
    f.write("title: Many\nbase_url: https://many.example.org\nviewer:\n  pyramids: false\n")
for i in range(n):
    d = os.path.join(out, "content", "datasets", f"ds-{i:05d}")
    os.makedirs(d, exist_ok=True)
    # The same pixels as tests/suite/hardening.rs: each image distinct.
    img = Image.new("L", (24, 24))
    img.putdata([((i >> ((x + y) % 2 * 8)) ^ (x * 9 + y)) & 0xFF for y in range(24) for x in range(24)])
    img.save(os.path.join(d, "t.png"))
    visibility = "private" if i % 5 == 0 else "public"
    with open(os.path.join(d, "dataset.yaml"), "w") as f:
        f.write(f"display_name: Dataset number {i}\nvisibility: {visibility}\nthumbnail: t.png\ntags: [t{i % 50}]\n")
