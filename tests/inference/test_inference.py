"""The inference package on real photos: face counts, crops, quality gate, runtime parity."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from app.inference.detector import FaceDetector, ssd_anchors
from app.inference.jpeg import FrameError, check_frame
from app.inference.labels import EMOTIONS
from app.inference.pipeline import analyze_jpeg
from app.inference.preprocessing import QualityLimits, crop_face, quality_reason, square_crop_box
from app.inference.registry import get_models
from tests.conftest import FACES
from tests.images import face_jpeg

# From tests/fixtures/README.md (the original photos, downscaled)
FACE_COUNTS = {
    "deepface_img1.jpg": 1,
    "deepface_img15.jpg": 1,
    "deepface_img11.jpg": 1,
    "deepface_img32.jpg": 1,
    "deepface_couple.jpg": 2,
    "fc_test_image.jpg": 6,
}


@pytest.fixture(scope="module")
def models():
    return get_models()


@pytest.mark.parametrize("name,count", sorted(FACE_COUNTS.items()))
def test_detector_counts_faces_on_real_photos(name, count):
    image = cv2.cvtColor(cv2.imread(str(FACES / name)), cv2.COLOR_BGR2RGB)
    detections = FaceDetector("full").detect(image)
    assert len(detections) == count
    for det in detections:
        x, y, w, h = det.box
        assert 0 <= x < image.shape[1] and 0 <= y < image.shape[0] and w > 0 and h > 0


def test_pipeline_on_a_smiling_face(models):
    result = analyze_jpeg(face_jpeg("deepface_img15.jpg"), models.detector, models.classifier)
    assert len(result.faces) == 1
    face = result.faces[0]
    assert face.emotion in EMOTIONS and face.reason is None
    assert abs(sum(face.scores.values()) - 1.0) < 1e-3
    assert face.emotion == "happy"  # a broad grin, per the photo's README


def test_small_faces_get_a_reason_not_a_guess(models):
    # At 640 px wide the five standing people are far below 40 px; the close-up face is not.
    result = analyze_jpeg(face_jpeg("fc_test_image.jpg"), models.detector, models.classifier, QualityLimits(min_face_px=40))
    reasons = [f.reason for f in result.faces]
    assert len(result.faces) == 6 and reasons.count("too_small") == 5 and reasons.count(None) == 1
    for face in result.faces:
        assert (face.emotion is None) == (face.reason is not None)


def test_quality_gate_dark_and_blurred():
    limits = QualityLimits()
    dark = np.full((48, 48), 10, np.uint8)
    assert quality_reason(dark, (0, 0, 100, 100), limits) == "dark"
    flat = np.full((48, 48), 128, np.uint8)
    assert quality_reason(flat, (0, 0, 100, 100), limits) == "blurred"
    assert quality_reason(flat, (0, 0, 20, 20), limits) == "too_small"


def test_crop_is_square_centred_and_padded_at_borders():
    x, y, side = square_crop_box((100, 50, 40, 60), margin=0.25, shift_y=0.0)
    assert side == 75 and x == round(120 - 37.5) and y == round(80 - 37.5)
    assert square_crop_box((100, 50, 40, 60), margin=0.25, shift_y=-0.1)[1] == round(80 - 6 - 37.5)
    gray = np.arange(100 * 100, dtype=np.uint32).reshape(100, 100).astype(np.uint8)
    assert crop_face(gray, (-10, -10, 50, 50)).shape == (48, 48)


def test_anchor_count_matches_model_outputs():
    assert ssd_anchors(192, (4,), False).shape == (2304, 2)
    assert ssd_anchors(128, (8, 16, 16, 16), True).shape == (896, 2)


@pytest.mark.parametrize(
    "data,code",
    [
        (b"not an image at all", "bad_image"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 10, "bad_image"),
        (b"\x00" * (3 * 1024 * 1024), "too_large"),
    ],
)
def test_frame_checks(data, code):
    with pytest.raises(FrameError) as err:
        check_frame(data, 2 * 1024 * 1024, 4096 * 4096)
    assert err.value.code == code


def test_frame_checks_accept_a_real_jpeg_and_refuse_truncation():
    data = face_jpeg()
    assert check_frame(data, 2 * 1024 * 1024, 4096 * 4096) == (640, cv2.imdecode(np.frombuffer(data, np.uint8), 1).shape[0])
    with pytest.raises(FrameError):
        check_frame(data[: len(data) // 2], 2 * 1024 * 1024, 4096 * 4096)
    with pytest.raises(FrameError) as err:
        check_frame(data, 2 * 1024 * 1024, 640 * 100)
    assert err.value.code == "too_large"


def test_batch_equals_single_predictions(models):
    rng = np.random.default_rng(0)
    x = rng.random((5, 48, 48, 1), dtype=np.float32)
    batch = models.classifier.predict(x)
    singles = np.concatenate([models.classifier.predict(x[i : i + 1]) for i in range(5)])
    np.testing.assert_allclose(batch, singles, atol=1e-5)


def test_serving_crop_matches_training_framing(models):
    """FER2013 faces drawn into 640x480 frames, found by the detector and cropped by the serving
    path, get the classes that direct classification of the FER crops gives (as in evaluation);
    a deliberately wrong framing agrees less."""
    from app.inference.preprocessing import to_model_input
    from tests.conftest import fer_sample

    split = fer_sample()  # 210 validation faces, 30 of each class
    idx = np.arange(len(split))
    direct = models.classifier.predict(to_model_input(split.images[idx])).argmax(1)
    found, agree, agree_wrong = 0, 0, 0
    for k, i in enumerate(idx):
        canvas = np.full((480, 640), 110, np.uint8)
        canvas[144:336, 224:416] = cv2.resize(split.images[i], (192, 192), interpolation=cv2.INTER_CUBIC)
        detections = models.detector.detect(cv2.cvtColor(canvas, cv2.COLOR_GRAY2RGB))
        if not detections:
            continue
        found += 1
        served = crop_face(canvas, detections[0].box)
        wrong = crop_face(canvas, detections[0].box, margin=0.6, shift_y=0.15)
        agree += models.classifier.predict(to_model_input(served[None])).argmax(1)[0] == direct[k]
        agree_wrong += models.classifier.predict(to_model_input(wrong[None])).argmax(1)[0] == direct[k]
    assert found >= 0.6 * len(idx)  # 148 of the 210 (70%); 60% as for 200 faces of the whole split
    assert agree / found >= 0.7 and agree > agree_wrong, (agree / found, agree_wrong / found)


def _header_claiming(width: int, height: int, padding: int = 600) -> bytes:
    """A JPEG whose frame header claims width x height but which holds almost nothing."""
    components = b"\x03\x01\x22\x00\x02\x11\x01\x03\x11\x01"
    sof = b"\xff\xc0\x00\x11\x08" + height.to_bytes(2, "big") + width.to_bytes(2, "big") + components
    return b"\xff\xd8" + sof + b"\xff\xda\x00\x0c\x03\x01\x00\x02\x11\x03\x11\x00\x3f\x00" + b"\x00" * padding + b"\xff\xd9"


def test_tiny_jpeg_claiming_a_huge_frame_is_refused_before_decoding():
    bomb = _header_claiming(4096, 4096)
    assert len(bomb) < 700
    with pytest.raises(FrameError) as err:
        check_frame(bomb, 2 * 1024 * 1024, 4096 * 4096)
    assert err.value.code == "bad_image"


def test_large_frames_decode_reduced_with_boxes_in_the_frames_pixels(models):
    small = cv2.imdecode(np.frombuffer(face_jpeg(width=640), np.uint8), cv2.IMREAD_COLOR)
    big = cv2.resize(small, (small.shape[1] * 6, small.shape[0] * 6), interpolation=cv2.INTER_CUBIC)
    data = cv2.imencode(".jpg", big, [cv2.IMWRITE_JPEG_QUALITY, 85])[1].tobytes()
    from app.inference.pipeline import decode_jpeg

    assert decode_jpeg(data).shape[1] == big.shape[1] // 2  # 3840 -> 1920: still above the analysis width
    result = analyze_jpeg(data, models.detector, models.classifier)
    reference = analyze_jpeg(face_jpeg(width=640), models.detector, models.classifier)
    assert (result.width, result.height) == (big.shape[1], big.shape[0])
    assert len(result.faces) == len(reference.faces) == 1
    # Same face, same place, in the pixels of the frame as sent (6x the small one).
    assert all(abs(a - 6 * b) <= 0.05 * big.shape[1] for a, b in zip(result.faces[0].box, reference.faces[0].box, strict=True))
    assert result.faces[0].emotion == reference.faces[0].emotion
