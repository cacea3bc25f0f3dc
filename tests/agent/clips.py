"""A test clip made at test time from the committed photos (never from the network)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from tests.conftest import FIXTURES

PHOTOS = ["deepface_img1.jpg", "deepface_img15.jpg", "deepface_img11.jpg"]


def face_clip(path: Path, seconds: float = 3.0, fps: int = 10, photos: list[str] = PHOTOS) -> Path:
    """An MPEG-4 clip of real faces (640x480, each photo for an equal part of it)."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (640, 480))
    assert writer.isOpened()
    frames = int(seconds * fps)
    for i in range(frames):
        image = cv2.imread(str(FIXTURES / photos[i * len(photos) // frames]))
        scale = min(640 / image.shape[1], 480 / image.shape[0])
        image = cv2.resize(image, (int(image.shape[1] * scale), int(image.shape[0] * scale)), interpolation=cv2.INTER_AREA)
        canvas = np.zeros((480, 640, 3), np.uint8)
        y, x = (480 - image.shape[0]) // 2, (640 - image.shape[1]) // 2
        canvas[y : y + image.shape[0], x : x + image.shape[1]] = image
        writer.write(canvas)
    writer.release()
    return path
