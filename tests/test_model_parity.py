"""Each shipped LiteRT model agrees with the Keras networks it was exported from, and scores
what its model card says, on the whole FER2013 validation split."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from app.inference.evaluation import metrics
from app.inference.fer_data import load_split
from app.inference.preprocessing import to_model_input
from app.inference.registry import SHIPPED_MODEL_DIRS, get_models
from tests.conftest import FER

MODEL_DIRS = pytest.mark.parametrize("model_dir", SHIPPED_MODEL_DIRS, ids=lambda d: d.name)


@pytest.fixture(scope="module")
def validation():
    split = load_split(FER / "val.npz.xz")
    return split, to_model_input(split.images)


@pytest.fixture(scope="module")
def served_network(validation):
    """Each model's LiteRT network on every validation face and on its mirror, computed once for
    the tests below (the ensemble takes over a minute per pass on one core)."""
    _, x = validation
    cache: dict = {}

    def scores(model_dir):
        if model_dir not in cache:
            classifier = get_models(model_dir).classifier

            def run(images: np.ndarray) -> np.ndarray:
                return np.concatenate([classifier.predict_network(images[i : i + 512]) for i in range(0, len(images), 512)])

            cache[model_dir] = run(x), run(x[:, :, ::-1, :])
        return cache[model_dir]

    return scores


@MODEL_DIRS
def test_litert_and_keras_agree_on_validation(model_dir, validation, served_network):
    """Network against network (the mirrored copies the workers add are the same averaging on
    either side, checked below)."""
    os.environ.setdefault("KERAS_BACKEND", "jax")
    from app.training.weights_io import keras_model_from_card

    _, x = validation
    keras_scores = keras_model_from_card(model_dir).predict(x, batch_size=512, verbose=0)
    served, _ = served_network(model_dir)
    agreement = float((keras_scores.argmax(1) == served.argmax(1)).mean())
    assert agreement >= 0.99, agreement
    # int8 weights move a probability by 0.002 on average and, on the worst of 25,000 scores,
    # by 0.04 (the ensemble, two networks averaged) to 0.07 (one network).
    diff = np.abs(keras_scores - served)
    assert diff.mean() < 0.005 and diff.max() < 0.1, (diff.mean(), diff.max())


@MODEL_DIRS
def test_served_model_scores_what_its_card_says(model_dir, validation, served_network):
    """The served scores: the face and its mirror averaged (``predict``, as checked below)."""
    split, _ = validation
    card = json.loads((model_dir / "model.json").read_text())
    plain, mirrored = served_network(model_dir)
    report = metrics(split.labels, ((plain + mirrored) / 2 if card["flip_tta"] else plain).argmax(1))
    assert report["accuracy"] >= 0.70
    assert report["accuracy"] == pytest.approx(card["metrics"]["val_accuracy"], abs=0.0005)


def test_served_scores_average_the_face_and_its_mirror(validation):
    _, x = validation
    classifier = get_models().classifier
    expected = (classifier.predict_network(x[:64]) + classifier.predict_network(x[:64, :, ::-1, :])) / 2
    np.testing.assert_allclose(classifier.predict(x[:64]), expected, atol=1e-5)
