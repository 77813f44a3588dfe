"""Reads an OME-Zarr image vitrine wrote with the reference Python reader (zarr-python) and
compares it with what the Rust test expects: every voxel of the full-resolution level, the
axes, and each level's scale and shape. Usage: read_back.py EXPECTED.json

EXPECTED.json: {"zarr": folder, "raw": file of the level-0 samples (C order, little-endian),
"dtype": "uint8"|"uint16", "shape": [...], "axes": [{"name", "type", "unit"?}...],
"scale": level 0's scale, "labels_of"?: the image folder, for OME-Zarr labels}. Labels must
also name that image as their source and hold, at every level, only ids of the full
resolution (coarser levels are votes, never means). Prints one line and exits 0 when
everything matches.
"""

import json
import math
import sys

import numpy as np
import zarr

want = json.load(open(sys.argv[1]))
group = zarr.open_group(want["zarr"], mode="r")
assert group.metadata.zarr_format == 3, group.metadata.zarr_format
ome = group.attrs["ome"]
assert ome["version"] == "0.5", ome
(multiscale,) = ome["multiscales"]
assert multiscale["axes"] == want["axes"], (multiscale["axes"], want["axes"])

level0 = group[multiscale["datasets"][0]["path"]]
assert level0.dtype == np.dtype(want["dtype"]), level0.dtype
assert list(level0.shape) == want["shape"], (level0.shape, want["shape"])
expected = np.fromfile(want["raw"], dtype=np.dtype(want["dtype"]).newbyteorder("<"))
expected = expected.reshape(want["shape"])
got = level0[...]
if not np.array_equal(got, expected):
    where = np.argwhere(got != expected)
    raise SystemExit(f"{len(where)} voxels differ, first at {where[0].tolist()}: "
                     f"{got[tuple(where[0])]} != {expected[tuple(where[0])]}")

label = "labels_of" in want
if label:
    import os

    source = ome["image-label"]["source"]["image"]
    pointed = os.path.realpath(os.path.join(want["zarr"], source))
    assert pointed == os.path.realpath(want["labels_of"]), (source, pointed)
    ids = set(np.unique(got).tolist())

names = [a["name"] for a in want["axes"]]
previous = None
for k, dataset in enumerate(multiscale["datasets"]):
    (transform,) = dataset["coordinateTransformations"]
    assert transform["type"] == "scale", transform
    scale = transform["scale"]
    array = group[dataset["path"]]
    assert array.metadata.dimension_names == tuple(names), array.metadata.dimension_names
    if k == 0:
        assert np.allclose(scale, want["scale"]), (scale, want["scale"])
    else:
        prev_scale, prev_shape = previous
        for i, name in enumerate(names):
            factor = scale[i] / prev_scale[i]
            if name in ("y", "x"):
                assert factor == 2, (k, name, factor)
            elif name == "z":
                assert factor in (1, 2), (k, name, factor)
            else:
                assert factor == 1, (k, name, factor)
            assert array.shape[i] == math.ceil(prev_shape[i] / factor), (k, name, array.shape)
    previous = (scale, array.shape)
    # Every level reads back whole (each chunk decodes).
    level = array[...]
    if label:
        stray = set(np.unique(level).tolist()) - ids
        assert not stray, (k, sorted(stray)[:5])

print(f"ok: {want['zarr']}: {len(multiscale['datasets'])} levels, level 0 {level0.shape} "
      f"{level0.dtype} equal voxel for voxel")
