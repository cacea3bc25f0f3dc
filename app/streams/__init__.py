"""Video sources (RTSP, MJPEG, snapshot URLs, files, local devices) read with OpenCV; no Flask here,
so that the edge agent and the server-side gateway share it."""
