"""Batched analysis gives each frame exactly what it gets alone (real photos, several faces)."""

from __future__ import annotations

import numpy as np
import pytest

from app.inference.classifier import PAD_ROWS
from app.inference.jpeg import FrameError
from app.inference.pipeline import analyze_jpeg, analyze_jpegs
from app.inference.registry import get_models
from tests.images import blank_jpeg, face_jpeg

PHOTOS = ("deepface_img15.jpg", "deepface_couple.jpg", "deepface_img1.jpg", "deepface_img11.jpg", "deepface_img32.jpg")


@pytest.fixture(scope="module")
def models():
    return get_models()


def test_a_face_scores_the_same_in_any_batch_and_padding(models):
    rng = np.random.default_rng(1)
    x = rng.random((PAD_ROWS[-1] + 3, 48, 48, 1), dtype=np.float32)
    alone = np.concatenate([models.classifier.predict(x[i : i + 1]) for i in range(len(x))])
    for n in (2, 3, 5, len(x)):  # padded to 4, 8, 16 rows (with mirrored copies); several calls past the cap
        np.testing.assert_array_equal(models.classifier.predict(x[:n]), alone[:n])


def test_frames_analysed_together_equal_frames_analysed_alone(models):
    frames = [face_jpeg(name) for name in PHOTOS] + [blank_jpeg(), b"\xff\xd8not a jpeg"]
    together = analyze_jpegs(frames, models.detector, models.classifier)
    assert sum(len(r.faces) for r in together if not isinstance(r, FrameError)) >= 6
    for data, result in zip(frames, together, strict=True):
        try:
            alone = analyze_jpeg(data, models.detector, models.classifier)
        except FrameError as exc:
            assert isinstance(result, FrameError) and result.code == exc.code
            continue
        assert [f.as_dict() for f in result.faces] == [f.as_dict() for f in alone.faces]
        assert (result.width, result.height) == (alone.width, alone.height)
