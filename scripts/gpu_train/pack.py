"""Pack FER2013 splits and the Keras wheels into ``.gpu/`` (git-ignored) for a lent GPU machine.

The machine takes at most 64 MiB of working tree: the images are stored as row differences
before xz (8% smaller than the shared files), and ``unpack.py`` restores them exactly there.
Usage: ``python scripts/gpu_train/pack.py DATA/fer2013``, then download the wheels as the
device tool's README says (keras, namex, optree for CPython 3.12) into ``.gpu/whl``.
"""

import io
import lzma
import sys
from pathlib import Path

import numpy as np

src, dst = Path(sys.argv[1]), Path(".gpu/data")
dst.mkdir(parents=True, exist_ok=True)
for split in ("train", "val"):
    with np.load(io.BytesIO(lzma.open(src / f"{split}.npz.xz").read())) as data:
        images, labels = data["images"], data["labels"]
    dy = np.diff(images, axis=1, prepend=np.zeros_like(images[:, :1])).astype(np.uint8)
    assert (np.cumsum(dy, axis=1, dtype=np.uint8) == images).all()
    raw = io.BytesIO()
    np.savez(raw, dy=dy, labels=labels)
    (dst / f"{split}.dy.npz.xz").write_bytes(lzma.compress(raw.getvalue(), preset=9 | lzma.PRESET_EXTREME))
    print(split, images.shape)
