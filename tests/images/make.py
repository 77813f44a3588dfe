"""Writes the TIFF fixtures of tests/images/ (small, so they are committed): sample formats,
layouts and containers that labs' microscopes and Fiji/OME tools write.

Run from this folder with `python3 make.py` (needs `pip install tifffile numpy imagecodecs`).
Every image is 40 × 30 pixels, with a gradient in a narrow band of its type's range, so a
missing contrast stretch shows as a flat image.
"""

import numpy as np
import tifffile

W, H = 40, 30
y, x = np.mgrid[0:H, 0:W]
ramp = (x * 3 + y * 2).astype(np.float64)  # 0 … 175


def write(name, data, **kwargs):
    tifffile.imwrite(name, data, **kwargs)


write("gray-float32.tif", (ramp / 1000.0 + 0.25).astype(np.float32))
write("gray-float64.tif", (ramp * 1e-6 - 3e-4).astype(np.float64))
write("gray-int16.tif", (ramp * 4 - 300).astype(np.int16))
write("gray-uint32.tif", (ramp * 1000 + 70000).astype(np.uint32))
rgb16 = np.stack([ramp * 10 + 1000, (175 - ramp) * 10 + 2000, np.full_like(ramp, 3000)])
write("rgb16-planar.tif", rgb16.astype(np.uint16), photometric="rgb", planarconfig="separate")
write("gray16-bigtiff.tif", (ramp * 5 + 500).astype(np.uint16), bigtiff=True)
write("gray16-zstd.tif", (ramp * 5 + 500).astype(np.uint16), compression="zstd")

# Three full pages: a plain multi-page stack.
stack = np.stack([(ramp + 40 * z).astype(np.uint8) for z in range(3)])
write("stack-3-pages.tif", stack, photometric="minisblack")
# One image followed by a reduced-resolution preview (subfile type 1), which is not a slice.
with tifffile.TiffWriter("with-preview.tif") as tif:
    tif.write((ramp + 20).astype(np.uint8))
    tif.write((ramp[::2, ::2] + 20).astype(np.uint8), subfiletype=1)

# ImageJ stack: 3 slices 0.5 µm apart, 0.1 µm pixels (resolution in pixels per µm).
tifffile.imwrite(
    "imagej-stack.tif",
    stack,
    imagej=True,
    resolution=(10, 10),
    metadata={"axes": "ZYX", "spacing": 0.5, "unit": "um"},
)
# OME-TIFF: the same stack, its voxel size in OME-XML.
tifffile.imwrite(
    "ome-stack.ome.tif",
    stack,
    metadata={
        "axes": "ZYX",
        "PhysicalSizeX": 0.1,
        "PhysicalSizeY": 0.1,
        "PhysicalSizeZ": 0.5,
    },
)
# ImageJ hyperstack of 2 channels × 3 slices: channels are not slices.
tifffile.imwrite(
    "imagej-2-channels.tif",
    np.stack([stack, 255 - stack], axis=1),
    imagej=True,
    metadata={"axes": "ZCYX"},
)
