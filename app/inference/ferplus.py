"""FERPlus: ten annotators' votes for every FER2013 image (Barsoum et al., ICMI 2016).

The original FER2013 labels agree with the FERPlus majority on only about 59% of images, so a
model is also scored against what people agree a face shows. Votes come in FERPlus's column
order; :data:`TO_EMOTIONS` maps them to ours. Contempt, unknown and not-a-face have no class of
ours: an image whose majority is one of them has no usable label, and for training targets
contempt counts towards disgust (the nearest of our classes), unknown and not-a-face are dropped.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from app.inference.labels import EMOTIONS

COLUMNS = ("neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear", "contempt", "unknown", "NF")
# FERPlus column -> index into EMOTIONS (None: no class of ours)
_TO = {
    "neutral": "neutral",
    "happiness": "happy",
    "surprise": "surprise",
    "sadness": "sad",
    "anger": "angry",
    "disgust": "disgust",
    "fear": "fear",
}
TO_EMOTIONS = tuple(EMOTIONS.index(_TO[c]) if c in _TO else None for c in COLUMNS)
NO_MAJORITY = -1


def load_votes(path: str | Path, n_images: int) -> tuple[np.ndarray, np.ndarray]:
    """(votes (N, 10), matched (N,)) for a split of ``n_images``: the train or val arrays,
    whichever has that many rows (the votes file holds both, in the splits' order)."""
    with np.load(Path(path), allow_pickle=False) as archive:
        columns = tuple(str(c) for c in archive["columns"]) if "columns" in archive else COLUMNS
        if columns != COLUMNS:
            raise ValueError(f"{path}: vote columns {columns} differ from FERPlus's {COLUMNS}")
        for split in ("val", "train", "test"):
            key = f"{split}_votes"
            if key in archive and archive[key].shape[0] == n_images:
                matched = archive[f"{split}_matched"] if f"{split}_matched" in archive else np.ones(n_images, bool)
                return np.asarray(archive[key], dtype=np.int64), np.asarray(matched, dtype=bool)
    raise ValueError(f"{path}: no vote array with {n_images} rows (train_votes, val_votes)")


def majority_labels(votes: np.ndarray, matched: np.ndarray | None = None) -> np.ndarray:
    """FERPlus's rule: drop any class that got a single vote, then the class with more than half
    of the remaining votes; :data:`NO_MAJORITY` where none has, where the majority is a class we do
    not have (contempt, unknown, not a face) or where the image has no vote row."""
    kept = np.where(votes == 1, 0, votes)
    total = kept.sum(1)
    best = kept.argmax(1)
    has = kept[np.arange(len(kept)), best] * 2 > total
    mapped = np.array([TO_EMOTIONS[b] if TO_EMOTIONS[b] is not None else NO_MAJORITY for b in best], dtype=np.int64)
    labels = np.where(has & (total > 0), mapped, NO_MAJORITY)
    if matched is not None:
        labels = np.where(matched, labels, NO_MAJORITY)
    return labels


def vote_distributions(votes: np.ndarray) -> np.ndarray:
    """Training targets: each image's votes over our 7 classes, normalised (rows of zeros where
    no vote falls in our classes). Contempt votes count as disgust; unknown and NF are dropped."""
    target = np.zeros((votes.shape[0], len(EMOTIONS)), dtype=np.float32)
    for column, index in enumerate(TO_EMOTIONS):
        if index is not None:
            target[:, index] += votes[:, column]
    target[:, EMOTIONS.index("disgust")] += votes[:, COLUMNS.index("contempt")]
    total = target.sum(1, keepdims=True)
    return np.divide(target, total, out=np.zeros_like(target), where=total > 0)
