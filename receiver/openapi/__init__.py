"""The admin API's OpenAPI description, generated from the app's routes."""

from __future__ import annotations

from receiver.openapi.document import api_routes, build_document, routes
from receiver.openapi.operations import OPERATIONS

__all__ = ["OPERATIONS", "api_routes", "build_document", "routes"]
