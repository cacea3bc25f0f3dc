"""Socket.IO namespaces (/capture, /live); ``emit`` is the only module that sends events."""

from flask import Flask


def register_namespaces(socketio, app: Flask) -> None:
    from app.realtime.access import init_access
    from app.realtime.capture import CaptureNamespace
    from app.realtime.closed_sockets import install as quiet_closed_sockets
    from app.realtime.guard import guard
    from app.realtime.live import LiveNamespace

    socketio.on_namespace(CaptureNamespace("/capture"))
    socketio.on_namespace(LiveNamespace("/live"))
    guard.configure(app, socketio.server)
    quiet_closed_sockets()
    init_access(app)
