"""Cheap checks of JPEG bytes before anything decodes them (size bombs, non-images)."""

from __future__ import annotations

_SOF_MARKERS = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


# Even a flat grey baseline JPEG spends a few bits per 8x8 block; 1 byte per 2048 pixels leaves
# room for progressive files' runs of empty blocks and still refuses a 689-byte "4096x4096".
MIN_PIXELS_PER_BYTE_RATIO = 2048


class FrameError(ValueError):
    """A frame refused before analysis; ``code`` goes into the capture acknowledgement."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def jpeg_dimensions(data: bytes) -> tuple[int, int]:
    """(width, height) from the JPEG header, or FrameError('bad_image') when it is no JPEG."""
    if len(data) < 4 or data[:2] != b"\xff\xd8":
        raise FrameError("bad_image", "not a JPEG image")
    i, n = 2, len(data)
    while i + 4 <= n:
        if data[i] != 0xFF:
            raise FrameError("bad_image", "corrupt JPEG header")
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        length = int.from_bytes(data[i + 2 : i + 4], "big")
        if length < 2:
            raise FrameError("bad_image", "corrupt JPEG header")
        if marker in _SOF_MARKERS:
            if i + 9 > n:
                break
            height = int.from_bytes(data[i + 5 : i + 7], "big")
            width = int.from_bytes(data[i + 7 : i + 9], "big")
            if width == 0 or height == 0:
                raise FrameError("bad_image", "JPEG without dimensions")
            return width, height
        if marker == 0xDA:  # start of scan before any frame header
            break
        i += 2 + length
    raise FrameError("bad_image", "truncated or corrupt JPEG")


def check_frame(data: bytes, max_bytes: int, max_pixels: int) -> tuple[int, int]:
    """Validate a frame's size and header; returns its (width, height)."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise FrameError("bad_request", "the frame must be binary JPEG data")
    if len(data) > max_bytes:
        raise FrameError("too_large", f"frame over {max_bytes} bytes")
    width, height = jpeg_dimensions(bytes(data[:65536]))
    if b"\xff\xd9" not in bytes(data[-64:]):
        raise FrameError("bad_image", "truncated JPEG (no end-of-image marker)")
    if width * height > max_pixels:
        raise FrameError("too_large", f"frame of {width}x{height} pixels is too large")
    if len(data) < width * height // MIN_PIXELS_PER_BYTE_RATIO:
        # A header that claims far more pixels than the bytes can hold: the decoder would still
        # allocate and fill the whole frame, so tiny files could buy one tenant much CPU.
        raise FrameError("bad_image", f"{len(data)} bytes cannot hold a {width}x{height} JPEG")
    return width, height


def reduced_decode_flag(width: int, min_width: int) -> int:
    """The OpenCV read flag that decodes at 1/8, 1/4 or 1/2 scale (cheap: done in the DCT) while
    the image stays at least ``min_width`` wide, so a large frame costs little more than a small one."""
    import cv2

    for factor, flag in ((8, cv2.IMREAD_REDUCED_COLOR_8), (4, cv2.IMREAD_REDUCED_COLOR_4), (2, cv2.IMREAD_REDUCED_COLOR_2)):
        if width // factor >= min_width:
            return flag
    return cv2.IMREAD_COLOR
