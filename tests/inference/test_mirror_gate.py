"""The mirrored copy only for unsure faces (``flip_below`` in model.json, app/inference/classifier.py):
confident faces are served from one network call, unsure faces get the mean with their mirror,
and the second call holds the unsure faces only."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from app.inference.classifier import ExpressionClassifier, apply_temperature, read_card, with_mirror
from app.inference.preprocessing import to_model_input
from app.inference.registry import DEFAULT_MODEL_DIR
from tests.conftest import fer_sample


def _model_dir(tmp_path, **card_changes):
    target = tmp_path / "model"
    shutil.copytree(DEFAULT_MODEL_DIR, target)
    card = json.loads((target / "model.json").read_text())
    card.update(card_changes)
    (target / "model.json").write_text(json.dumps(card))
    return target


def test_only_faces_below_the_gate_are_mirrored_and_only_they_cost_a_second_call(tmp_path):
    classifier = ExpressionClassifier(_model_dir(tmp_path, flip_tta=True, flip_below=0.6))
    x = to_model_input(fer_sample().images)
    plain = classifier.predict_network(x)
    mirrored = classifier.predict_network(x[:, :, ::-1, :])
    unsure = plain.max(1) < 0.6
    assert 0 < unsure.sum() < len(x)  # the sample holds both kinds

    calls = []
    run = classifier._run
    classifier._run = lambda images: calls.append(len(images)) or run(images)
    served = classifier.predict(x)
    assert calls == [len(x), int(unsure.sum())]

    expected = np.where(unsure[:, None], (plain + mirrored) / 2, plain)
    np.testing.assert_allclose(served, apply_temperature(expected, classifier.card.temperature), atol=1e-5)
    np.testing.assert_allclose(served[~unsure], apply_temperature(plain, classifier.card.temperature)[~unsure], atol=1e-5)
    np.testing.assert_allclose(with_mirror(plain, mirrored, classifier.card), expected, atol=1e-6)

    # A batch of confident faces costs one call.
    calls.clear()
    classifier.predict(x[~unsure][:8])
    assert calls == [8]


def test_without_a_gate_every_face_or_none_is_mirrored(tmp_path):
    plain = np.array([[0.9, 0.1], [0.5, 0.5]], np.float32)
    mirrored = np.array([[0.7, 0.3], [0.1, 0.9]], np.float32)
    every = read_card(_model_dir(tmp_path, flip_tta=True, flip_below=1.0))
    np.testing.assert_allclose(with_mirror(plain, mirrored, every), (plain + mirrored) / 2)
    none = read_card(_model_dir(tmp_path / "b", flip_tta=False, flip_below=0.6))
    np.testing.assert_allclose(with_mirror(plain, mirrored, none), plain)


@pytest.mark.parametrize("flip_below", [0.0, -0.5, 1.5])
def test_a_gate_that_is_not_a_score_is_refused(tmp_path, flip_below):
    with pytest.raises(ValueError, match="flip_below"):
        read_card(_model_dir(tmp_path, flip_tta=True, flip_below=flip_below))
