"""Analysis of image and video files (the ``analyze`` command): the workers' pipeline per frame."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2

from app.inference.jpeg import FrameError
from app.inference.pipeline import FrameAnalysis, analyze_image
from app.inference.preprocessing import QualityLimits
from app.inference.registry import Models

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}


def analyze_file(path: Path, models: Models, limits: QualityLimits, every: int = 1) -> Iterator[tuple[int, float, FrameAnalysis]]:
    """(frame number, time in seconds, analysis) for an image (one frame) or each Nth video frame."""
    if path.suffix.lower() in IMAGE_SUFFIXES:
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            raise FrameError("bad_image", f"{path} is not an image OpenCV can read")
        yield 0, 0.0, analyze_image(image, models.detector, models.classifier, limits)
        return
    video = cv2.VideoCapture(str(path))
    if not video.isOpened():
        raise FrameError("bad_image", f"{path} is neither an image nor a readable video")
    fps = video.get(cv2.CAP_PROP_FPS) or 25.0
    frame_no = 0
    try:
        while True:
            ok, frame = video.read()
            if not ok:
                break
            if frame_no % every == 0:
                yield frame_no, frame_no / fps, analyze_image(frame, models.detector, models.classifier, limits)
            frame_no += 1
    finally:
        video.release()
