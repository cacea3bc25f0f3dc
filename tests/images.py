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
