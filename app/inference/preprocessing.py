"""From a detected box to the model's input, and the quality gate that refuses to guess.

Training feeds the model FER2013 crops: grayscale, 48x48, the face filling most of the frame
from forehead to chin. Serving reproduces that: a square crop centred on the detector's box,
enlarged by ``CROP_MARGIN`` (BlazeFace boxes are tighter than FER2013's framing), grayscale,
resized with area interpolation, scaled to [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

INPUT_SIZE = 48
# Measured on FER2013 validation faces drawn into frames and found by BlazeFace: a FER crop is
# about 1.15-1.2 box sides wide and centred 4% of a side above the box centre (best agreement
# between serving on such frames and direct classification of the crops: 0.15 and -0.04).
CROP_MARGIN = 0.15  # fraction of the box side added around it
CROP_SHIFT_Y = -0.04  # vertical shift of the crop centre, in box sides


@dataclass(frozen=True)
class QualityLimits:
    min_face_px: int = 40
    min_sharpness: float = 12.0  # variance of the Laplacian on the 48x48 crop
    min_brightness: float = 35.0  # mean gray level, 0..255


def square_crop_box(
    box: tuple[int, int, int, int], margin: float = CROP_MARGIN, shift_y: float = CROP_SHIFT_Y
) -> tuple[int, int, int]:
    """(x, y, side) of the square around a (x, y, w, h) box, enlarged by ``margin``."""
    x, y, w, h = box
    side = max(w, h) * (1.0 + margin)
    cx, cy = x + w / 2.0, y + h / 2.0 + shift_y * max(w, h)
    return round(cx - side / 2.0), round(cy - side / 2.0), max(1, round(side))


def crop_face(
    gray: np.ndarray, box: tuple[int, int, int, int], margin: float = CROP_MARGIN, shift_y: float = CROP_SHIFT_Y
) -> np.ndarray:
    """uint8 48x48 crop; parts outside the image are filled by replicating its border."""
    x0, y0, side = square_crop_box(box, margin, shift_y)
    height, width = gray.shape
    pad = max(0, -x0, -y0, x0 + side - width, y0 + side - height)
    if pad:
        gray = cv2.copyMakeBorder(gray, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
        x0, y0 = x0 + pad, y0 + pad
    crop = gray[y0 : y0 + side, x0 : x0 + side]
    interpolation = cv2.INTER_AREA if side > INPUT_SIZE else cv2.INTER_LINEAR
    return cv2.resize(crop, (INPUT_SIZE, INPUT_SIZE), interpolation=interpolation)


def to_model_input(crops: np.ndarray) -> np.ndarray:
    """uint8 (N, 48, 48) -> float32 (N, 48, 48, 1) in [0, 1], exactly as in training."""
    return (crops.astype(np.float32) / 255.0)[..., None]


def quality_reason(crop: np.ndarray, box: tuple[int, int, int, int], limits: QualityLimits) -> str | None:
    """Why a face should not be classified (``too_small``, ``dark``, ``blurred``), or None."""
    if min(box[2], box[3]) < limits.min_face_px:
        return "too_small"
    if float(crop.mean()) < limits.min_brightness:
        return "dark"
    if float(cv2.Laplacian(crop, cv2.CV_64F).var()) < limits.min_sharpness:
        return "blurred"
    return None
