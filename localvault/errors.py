"""The error every layer of the local vault raises, rendered as the service's error body."""


class KeyVaultError(Exception):
    """An error answered to the client as ``{"error": {"code", "message", "innererror"?}}``."""

    def __init__(self, status, code, message, inner_code=None, headers=None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.inner_code = inner_code
        self.headers = dict(headers or {})

    def body(self):
        error = {"code": self.code, "message": self.message}
        if self.inner_code:
            error["innererror"] = {"code": self.inner_code}
        return {"error": error}


def bad_parameter(message):
    return KeyVaultError(400, "BadParameter", message)
