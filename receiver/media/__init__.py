"""The media archive: result files copied out of the provider before they expire."""

from __future__ import annotations

from receiver.media.plugin import MediaPlugin

__all__ = ["MediaPlugin"]
