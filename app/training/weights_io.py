"""Keras weights as ``.npz`` files, and the served network rebuilt from ``model.json``.

The one place that knows how weights files map onto networks: training writes them, export
reads them, and the agreement test and the benchmark rebuild the served ensemble from them.
"""

from __future__ import annotations

import json
from pathlib import Path

import keras
import numpy as np

from app.training.architecture import build_ensemble, members_of


def save_weights_npz(model: keras.Model, path: Path) -> None:
    """Weights as float16 arrays in model order: half the size of an ``.h5`` checkpoint, and
    exact enough for serving and for resuming."""
    arrays = {f"w{i:03d}": w.astype(np.float16) for i, w in enumerate(model.get_weights())}
    np.savez(path, **arrays)


def load_weights_npz(model: keras.Model, path: Path) -> None:
    """Inverse of :func:`save_weights_npz`."""
    with np.load(path) as archive:
        model.set_weights([archive[k].astype(np.float32) for k in sorted(archive.files)])


def load_checkpoint(model: keras.Model, path: Path) -> None:
    """A training checkpoint (``.weights.h5``) or an exported or averaged ``.npz`` into ``model``."""
    if str(path).endswith(".npz"):
        load_weights_npz(model, path)
    else:
        model.load_weights(path)


def member_networks(model: keras.Model, count: int) -> list[keras.Model]:
    """The members inside a model made by ``build_ensemble`` (the model itself for one)."""
    return [model] if count == 1 else [model.get_layer(f"member{i}") for i in range(count)]


def load_members(model: keras.Model, weights: list[Path]) -> None:
    """Each member's weights file into its network."""
    for net, path in zip(member_networks(model, len(weights)), weights, strict=True):
        load_weights_npz(net, path)


def keras_model_from_card(model_dir: Path) -> keras.Model:
    """The Keras network that the LiteRT file in ``model_dir`` was exported from."""
    card = json.loads((Path(model_dir) / "model.json").read_text())
    files = card["keras_weights"]
    files = [files] if isinstance(files, str) else files
    model = build_ensemble(members_of(card["architecture"]))
    load_members(model, [Path(model_dir) / f for f in files])
    return model
