"""Errors the domain raises; the CLI and API translate them at their boundary.

AppError
 ├── InvalidInput      the caller gave something we cannot use (exit 2 / HTTP 422)
 ├── NotFound          the thing asked for does not exist for this user (exit 2 / HTTP 404)
 └── Conflict          the request contradicts the stored state (exit 2 / HTTP 409)
"""

from __future__ import annotations

__all__ = ["AppError", "Conflict", "InvalidInput", "NotFound"]


class AppError(Exception):
    """Root of every error keepwarm reports to a person; its message is one line."""


class InvalidInput(AppError):
    """Raised when an argument, file or field cannot be used."""


class NotFound(AppError):
    """Raised when the requested record does not exist for this user."""


class Conflict(AppError):
    """Raised when a request contradicts what is stored."""
