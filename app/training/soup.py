"""Weight averaging ("model soup") of checkpoints of one network, optionally with fresh BatchNorm
statistics.

Checkpoints that share a start (the epochs of one fine-tuning run, or two fine-tunings of one
network) lie in one basin: their weighted mean is still one network, served at one network's
cost, and often better than each of them (Wortsman et al., 2022; stochastic weight averaging).
The BatchNorm running statistics are averaged like the rest; ``--bn-images N`` re-estimates them
on N training images instead. Measured on validation against the FERPlus majority (model card):
recomputing gained 0.3 points on one soup, nothing on another and lost 0.7 on a third, so it is
off by default and worth measuring each time.

Usage: ``python -m app.training.soup --data DATA/fer2013 --widths 48,96,192,384 --out soup.npz
run/epoch3.weights.h5 run/epoch4.weights.h5 v3.weights.npz:0.5`` (``:SHARE`` weights a file;
default 1). The result is a ``.npz`` that ``app.training.export`` serves; a single checkpoint
gives that checkpoint as a ``.npz``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from app.training.architecture import build_classifier  # noqa: E402
from app.training.weights_io import load_checkpoint, save_weights_npz  # noqa: E402


def read_checkpoint(model: keras.Model, path: Path) -> list[np.ndarray]:
    """A checkpoint's arrays in model order: a training ``.weights.h5`` or an exported ``.npz``."""
    load_checkpoint(model, path)
    return [w.astype(np.float32, copy=True) for w in model.get_weights()]


def average(checkpoints: Sequence[list[np.ndarray]], shares: Sequence[float]) -> list[np.ndarray]:
    """The share-weighted mean of each array across checkpoints (shares need not sum to 1)."""
    if len(checkpoints) != len(shares) or not checkpoints:
        raise ValueError("one share per checkpoint, at least one checkpoint")
    if min(shares) < 0 or sum(shares) <= 0:
        raise ValueError("shares must be non-negative and not all zero")
    total = float(sum(shares))
    return [sum(s * a for s, a in zip(shares, arrays, strict=True)) / total for arrays in zip(*checkpoints, strict=True)]


def recompute_batchnorm(model: keras.Model, images: np.ndarray, batch_size: int = 256) -> None:
    """Running statistics of every BatchNorm layer re-estimated from ``images`` (float32, the
    serving input) in training mode, as during training: the mean of the batch statistics, each
    batch counted once (as PyTorch's ``update_bn``), so the stale statistics weigh nothing. Only
    the running statistics change."""
    layers = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    saved = [layer.momentum for layer in layers]
    try:
        for step, start in enumerate(range(0, len(images), batch_size)):
            for layer in layers:  # running = running * k / (k + 1) + batch / (k + 1)
                layer.momentum = step / (step + 1)
            model(images[start : start + batch_size], training=True)
    finally:
        for layer, momentum in zip(layers, saved, strict=True):
            layer.momentum = momentum


def parse_checkpoint(spec: str) -> tuple[Path, float]:
    """``PATH`` or ``PATH:SHARE``."""
    path, _, share = spec.rpartition(":")
    if path and share.replace(".", "", 1).isdigit():
        return Path(path), float(share)
    return Path(spec), 1.0


def main(argv: list[str] | None = None) -> Path:
    from app.inference.fer_data import load_split
    from app.training.train import split_path, to_input

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("checkpoints", nargs="+", help="PATH[:SHARE]: .weights.h5 or .npz of one network")
    p.add_argument("--data", default="", help="the folder of the FER2013 splits (training images for --bn-images)")
    p.add_argument("--widths", default="32,64,128,256")
    p.add_argument("--dense-units", type=int, default=256)
    p.add_argument("--bn-images", type=int, default=0, help="re-estimate the BatchNorm statistics on this many training images")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args(argv)

    specs = [parse_checkpoint(s) for s in args.checkpoints]
    for path, _ in specs:
        if not path.exists():
            p.error(f"no such checkpoint: {path}")
    model = build_classifier(widths=tuple(int(w) for w in args.widths.split(",")), dense_units=args.dense_units)
    model.set_weights(average([read_checkpoint(model, path) for path, _ in specs], [s for _, s in specs]))
    if args.bn_images > 0:
        if not args.data:
            p.error("--bn-images needs --data")
        images = load_split(split_path(Path(args.data), "train")).images
        pick = np.random.default_rng(args.seed).permutation(len(images))[: args.bn_images]
        recompute_batchnorm(model, to_input(images[pick]))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    save_weights_npz(model, args.out)
    print(f"soup of {len(specs)} checkpoints -> {args.out}", flush=True)
    return args.out


if __name__ == "__main__":
    main(sys.argv[1:])
