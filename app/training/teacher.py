"""Teacher scores for distillation: what a mix of networks, each with its mirrored copy, says of
every training image.

The mirrored copy and a second network each lift validation accuracy, but cost a network call per
face in serving. Training one network on their averaged scores (Hinton et al., 2015) hands it part
of that gain at one call's cost. The scores are computed once, on the plain training images, and
read by ``app.training.train --teacher FILE --teacher-weight W``, which mixes them into each
image's target.

Each network's scores are averaged over the image and its mirror; the networks are then mixed as
a weighted geometric mean (``w_a * log p_a + w_b * log p_b``, renormalised), the mix measured on
validation (model card). Usage: ``python -m app.training.teacher --data DATA/fer2013 --widths
48,96,192,384 --out teacher.npz v3b.npz:0.8 ferplus.npz:0.2``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")

import numpy as np  # noqa: E402

from app.inference.fer_data import load_split  # noqa: E402
from app.training.architecture import build_classifier  # noqa: E402
from app.training.soup import parse_checkpoint, read_checkpoint  # noqa: E402
from app.training.train import predict_with_flip, split_path, to_input  # noqa: E402


def geometric_mix(scores: Sequence[np.ndarray], shares: Sequence[float]) -> np.ndarray:
    """Share-weighted geometric mean of score arrays, renormalised to sum to 1 per row."""
    if len(scores) != len(shares) or not scores or min(shares) < 0 or sum(shares) <= 0:
        raise ValueError("one non-negative share per network, not all zero")
    total = float(sum(shares))
    log_mix = sum(s / total * np.log(np.clip(p, 1e-7, 1.0)) for s, p in zip(shares, scores, strict=True))
    mixed = np.exp(log_mix - log_mix.max(axis=1, keepdims=True))
    return (mixed / mixed.sum(axis=1, keepdims=True)).astype(np.float32)


def teacher_scores(
    checkpoints: Sequence[tuple[Path, float]], widths: tuple[int, ...], dense_units: int, images: np.ndarray
) -> np.ndarray:
    """The teacher's scores (N, classes) for ``images`` (float32, the serving input)."""
    model = build_classifier(widths=widths, dense_units=dense_units)
    scores = []
    for path, _ in checkpoints:
        read_checkpoint(model, path)
        scores.append(predict_with_flip(model, images))
    return geometric_mix(scores, [share for _, share in checkpoints])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("checkpoints", nargs="+", help="CHECKPOINT[:SHARE] (.weights.h5 or .npz)")
    p.add_argument("--data", required=True, help="folder of the FER2013 splits")
    p.add_argument("--widths", type=lambda s: tuple(int(w) for w in s.split(",")), required=True)
    p.add_argument("--dense-units", type=int, default=256)
    p.add_argument("--out", required=True, help="the .npz to write (array 'scores', one row per training image)")
    args = p.parse_args(argv)
    checkpoints = [parse_checkpoint(c) for c in args.checkpoints]
    for path, _ in checkpoints:
        if not path.exists():
            p.error(f"no such checkpoint: {path}")
    split = load_split(split_path(Path(args.data), "train"))
    scores = teacher_scores(checkpoints, args.widths, args.dense_units, to_input(split.images))
    np.savez(args.out, scores=scores)
    agree = float((scores.argmax(1) == split.labels).mean())
    print(f"teacher scores for {len(scores)} training images -> {args.out} (agree with FER2013 labels: {agree:.4f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
