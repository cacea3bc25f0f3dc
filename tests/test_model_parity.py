"""The served LiteRT model agrees with the Keras model it was exported from (FER2013 val)."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from app.inference.fer_data import load_split
from app.inference.preprocessing import to_model_input
from app.inference.registry import DEFAULT_MODEL_DIR, get_models
from tests.conftest import FER


@pytest.fixture(scope="module")
def keras_model():
    os.environ.setdefault("KERAS_BACKEND", "jax")
    from app.training.architecture import build_classifier
    from app.training.train import load_weights_npz

    card = json.loads((DEFAULT_MODEL_DIR / "model.json").read_text())
    arch = card["architecture"]
    model = build_classifier(widths=tuple(arch["widths"]), dense_units=arch["dense_units"])
    load_weights_npz(model, DEFAULT_MODEL_DIR / card["keras_weights"])
    return model


def test_litert_and_keras_agree_on_validation(keras_model):
    split = load_split(FER / "val.npz.xz")
    x = to_model_input(split.images)
    keras_scores = (keras_model.predict(x, batch_size=512, verbose=0)
                    + keras_model.predict(x[:, :, ::-1, :], batch_size=512, verbose=0)) / 2
    served = np.concatenate([get_models().classifier.predict(x[i : i + 512]) for i in range(0, len(x), 512)])
    agreement = float((keras_scores.argmax(1) == served.argmax(1)).mean())
    assert agreement >= 0.99, agreement
    assert np.abs(keras_scores - served).max() < 0.05
