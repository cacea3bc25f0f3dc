class ServiceError(Exception):
    """A refusal the caller can show: ``code`` is stable for clients, ``message`` is for people."""

    status = 400

    def __init__(self, code: str, message: str, status: int | None = None, fields: dict | None = None):
        super().__init__(message)
        self.code, self.message, self.fields = code, message, fields or {}
        if status is not None:
            self.status = status
