"""The expression CNN and its training-time augmentation.

The classifier takes (48, 48, 1) grayscale floats in [0, 1], the crop that
``app.inference.preprocessing`` produces, and outputs 7 softmax probabilities in the order of
``app.inference.labels.EMOTIONS``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import keras
from keras import layers

INPUT_SHAPE = (48, 48, 1)
# PyTorch's default: the moving statistics follow the batch statistics within ~50 steps, so
# short runs and the early best checkpoints evaluate correctly.
BN_MOMENTUM = 0.9


def build_classifier(
    widths: tuple[int, ...] = (64, 128, 256, 512),
    convs_per_block: int = 2,
    dense_units: int = 256,
    dropouts: tuple[float, ...] = (0.1, 0.15, 0.2, 0.25),
    head_dropout: float = 0.4,
    name: str = "emotiscan_cnn",
) -> keras.Model:
    """VGG-style blocks (3x3 convolutions, batch norm, ReLU, max-pool, dropout) and a dense head."""
    inputs = keras.Input(INPUT_SHAPE, name="face")
    x = inputs
    for block, (width, drop) in enumerate(zip(widths, dropouts, strict=True)):
        for conv in range(convs_per_block):
            x = layers.Conv2D(width, 3, padding="same", use_bias=False, name=f"b{block}_conv{conv}")(x)
            x = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"b{block}_bn{conv}")(x)
            x = layers.ReLU(name=f"b{block}_relu{conv}")(x)
        x = layers.MaxPooling2D(2, name=f"b{block}_pool")(x)
        x = layers.Dropout(drop, name=f"b{block}_drop")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(dense_units, use_bias=False, name="fc")(x)
    x = layers.BatchNormalization(momentum=BN_MOMENTUM, name="fc_bn")(x)
    x = layers.ReLU(name="fc_relu")(x)
    x = layers.Dropout(head_dropout, name="fc_drop")(x)
    # float32 output so that mixed-precision training still gives exact probabilities.
    outputs = layers.Dense(7, activation="softmax", dtype="float32", name="scores")(x)
    return keras.Model(inputs, outputs, name=name)


def members_of(architecture: dict) -> list[dict]:
    """The member networks that ``model.json``'s ``architecture`` describes: ``{"members": [...]}``
    for an ensemble, or one network's ``{"widths": ..., "dense_units": ...}``."""
    members = architecture.get("members", [architecture])
    return [{"widths": tuple(m["widths"]), "dense_units": int(m["dense_units"])} for m in members]


def build_ensemble(members: Sequence[dict], name: str = "emotiscan_ensemble") -> keras.Model:
    """The served network: the mean of the members' probabilities, in one graph (so the workers
    still make one interpreter call per frame). One member gives that member itself.

    The weights of the result are the members' weights in member order, so that each member's
    own weights file stays its training resume point.
    """
    nets = [
        build_classifier(widths=tuple(m["widths"]), dense_units=int(m["dense_units"]), name=f"member{i}")
        for i, m in enumerate(members)
    ]
    if len(nets) == 1:
        return nets[0]
    inputs = keras.Input(INPUT_SHAPE, name="face")
    outputs = layers.Average(name="scores_mean", dtype="float32")([net(inputs) for net in nets])
    return keras.Model(inputs, outputs, name=name)


class RandomAffine(layers.Layer):
    """Rotation, zoom and shift in one resampling: a third of the cost of Keras' three separate
    layers, which each resample the whole batch (measured: +40% step time each on CPU)."""

    def __init__(self, degrees: float = 12.0, zoom: float = 0.12, shift: float = 0.1, seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.degrees, self.zoom, self.shift = degrees, zoom, shift
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, images, training=None):
        if not training:
            return images
        ops = keras.ops
        n = ops.shape(images)[0]
        height, width = images.shape[1], images.shape[2]
        uniform = lambda low, high: keras.random.uniform(  # noqa: E731
            (n,), low, high, seed=self.seed_generator, dtype="float32"
        )
        angle = uniform(-self.degrees, self.degrees) * (math.pi / 180.0)
        scale = uniform(1.0 - self.zoom, 1.0 + self.zoom)
        tx = uniform(-self.shift, self.shift) * width
        ty = uniform(-self.shift, self.shift) * height
        cx, cy = (width - 1) / 2.0, (height - 1) / 2.0
        # Output pixel -> input pixel: inverse rotation and scale about the centre, then shift.
        a0, a1 = ops.cos(angle) / scale, -ops.sin(angle) / scale
        b0, b1 = ops.sin(angle) / scale, ops.cos(angle) / scale
        a2 = cx - a0 * cx - a1 * cy + tx
        b2 = cy - b0 * cx - b1 * cy + ty
        zeros = ops.zeros_like(a0)
        transform = ops.stack([a0, a1, a2, b0, b1, b2, zeros, zeros], axis=1)
        out = ops.image.affine_transform(ops.cast(images, "float32"), transform, interpolation="bilinear", fill_mode="nearest")
        return ops.cast(out, images.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "degrees": self.degrees, "zoom": self.zoom, "shift": self.shift}


def build_augmenter(seed: int = 0) -> keras.Sequential:
    """Flips, shifts, rotations, zoom, brightness/contrast and random erasing.

    Runs inside the compiled training step (active only when ``training=True``), so augmentation
    costs no host time and never reaches the exported serving model.
    """
    return keras.Sequential(
        [
            layers.RandomFlip("horizontal", seed=seed),
            RandomAffine(seed=seed + 1),
            layers.RandomBrightness(0.2, value_range=(0.0, 1.0), seed=seed + 4),
            layers.RandomContrast(0.3, value_range=(0.0, 1.0), seed=seed + 5),
            layers.RandomErasing(factor=0.5, scale=(0.02, 0.12), value_range=(0.0, 1.0), seed=seed + 6),
        ],
        name="augment",
    )
