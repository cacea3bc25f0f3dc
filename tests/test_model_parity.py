"""The served LiteRT model agrees with the Keras model it was exported from (FER2013 val)."""

from __future__ import annotations

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
    from app.training.weights_io import keras_model_from_card

    return keras_model_from_card(DEFAULT_MODEL_DIR)


def test_litert_and_keras_agree_on_validation(keras_model):
    """The whole validation split through both runtimes, network against network (the mirrored
    copies the workers add are the same averaging on either side, checked below)."""
    split = load_split(FER / "val.npz.xz")
    x = to_model_input(split.images)
    keras_scores = keras_model.predict(x, batch_size=512, verbose=0)
    classifier = get_models().classifier
    served = np.concatenate([classifier.predict_network(x[i : i + 512]) for i in range(0, len(x), 512)])
    agreement = float((keras_scores.argmax(1) == served.argmax(1)).mean())
    assert agreement >= 0.99, agreement
    assert np.abs(keras_scores - served).max() < 0.05


def test_served_scores_average_the_face_and_its_mirror():
    x = to_model_input(load_split(FER / "val.npz.xz").images[:64])
    classifier = get_models().classifier
    expected = (classifier.predict_network(x) + classifier.predict_network(x[:, :, ::-1, :])) / 2
    np.testing.assert_allclose(classifier.predict(x), expected, atol=1e-5)
