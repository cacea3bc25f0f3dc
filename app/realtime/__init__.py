"""Socket.IO namespaces (/capture, /live); ``emit`` is the only module that sends events."""


def register_namespaces(socketio) -> None:
    from app.realtime.capture import CaptureNamespace
    from app.realtime.live import LiveNamespace

    socketio.on_namespace(CaptureNamespace("/capture"))
    socketio.on_namespace(LiveNamespace("/live"))
