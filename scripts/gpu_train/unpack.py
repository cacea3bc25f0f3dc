"""Inverse of ``pack.py``: FER2013-format ``.npz`` splits for ``app.training.train``."""

import io
import lzma
import sys

import numpy as np

src, dst = sys.argv[1], sys.argv[2]
for split in ("train", "val"):
    with np.load(io.BytesIO(lzma.open(f"{src}/{split}.dy.npz.xz").read())) as data:
        images = np.cumsum(data["dy"], axis=1, dtype=np.uint8)
        np.savez(f"{dst}/{split}.npz", images=images, labels=data["labels"])
    print(split, images.shape, flush=True)
