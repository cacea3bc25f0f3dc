"""Loading of FER2013-format splits (``.npz`` or ``.npz.xz``), shared by training and evaluation."""

from __future__ import annotations

import io
import lzma
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from app.inference.labels import EMOTIONS


@dataclass(frozen=True)
class FerSplit:
    """Images uint8 (N, 48, 48) and labels (N,) as indices into :data:`EMOTIONS`."""

    images: np.ndarray
    labels: np.ndarray
    votes: np.ndarray | None = None  # FERPlus votes (N, 10) when the file carries them
    matched: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.labels.shape[0])


def load_split(path: str | Path) -> FerSplit:
    """Read a split; ``.xz`` files are decompressed in memory.

    Raises ``ValueError`` when the arrays are not of the shared format, so that a wrong file
    gives a clear message instead of a confusing accuracy.
    """
    path = Path(path)
    raw = lzma.open(path).read() if path.suffix == ".xz" else path.read_bytes()
    with np.load(io.BytesIO(raw), allow_pickle=False) as archive:
        if "images" not in archive or "labels" not in archive:
            raise ValueError(f"{path}: expected arrays 'images' and 'labels'")
        images = np.asarray(archive["images"])
        labels = np.asarray(archive["labels"]).astype(np.int64)
        votes = np.asarray(archive["votes"]).astype(np.int64) if "votes" in archive else None
        matched = np.asarray(archive["matched"]).astype(bool) if "matched" in archive else None
        if "classes" in archive:
            classes = tuple(str(c) for c in archive["classes"])
            if classes != EMOTIONS:
                raise ValueError(f"{path}: classes {classes} differ from {EMOTIONS}")
    if images.ndim != 3 or images.shape[1:] != (48, 48) or images.dtype != np.uint8:
        raise ValueError(f"{path}: images must be uint8 (N, 48, 48), got {images.dtype} {images.shape}")
    if labels.shape != (images.shape[0],) or labels.min(initial=0) < 0 or labels.max(initial=0) >= len(EMOTIONS):
        raise ValueError(f"{path}: labels must be (N,) indices below {len(EMOTIONS)}")
    if votes is not None and votes.shape != (images.shape[0], 10):
        raise ValueError(f"{path}: votes must be (N, 10) in FERPlus's column order")
    if votes is not None and matched is None:
        matched = np.ones(images.shape[0], dtype=bool)
    return FerSplit(images=images, labels=labels, votes=votes, matched=matched)
