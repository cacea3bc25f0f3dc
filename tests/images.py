"""Test images made from the photos in tests/fixtures (downscaled copies of the original photos; its README)."""

from __future__ import annotations

from functools import cache

import cv2
import numpy as np

from tests.conftest import FACES


@cache
def face_jpeg(name: str = "deepface_img15.jpg", width: int = 640) -> bytes:
    image = cv2.imread(str(FACES / name))
    assert image is not None, f"missing {FACES / name}"
    scale = width / image.shape[1]
    image = cv2.resize(image, (width, round(image.shape[0] * scale)), interpolation=cv2.INTER_AREA)
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 85])
    assert ok
    return data.tobytes()


def blank_jpeg(width: int = 640, height: int = 480) -> bytes:
    ok, data = cv2.imencode(".jpg", np.full((height, width, 3), 128, np.uint8))
    return data.tobytes()


def decode_qr(pixels: np.ndarray) -> str:
    """The text of the QR code in an image, or "". OpenCV's detector misses about one crisp,
    print-resolution code in sixty that it reads at another scale (a phone sees many scales), so
    the image is tried as it is, then resampled."""
    detector = cv2.QRCodeDetector()
    for scale in (1.0, 0.5, 0.3, 1.5):
        image = pixels if scale == 1.0 else cv2.resize(pixels, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        text, _, _ = detector.detectAndDecode(image)
        if text:
            return text
    return ""
