"""Inbound signature schemes, one module each; all raise `VerificationFailed(reason)`."""

from __future__ import annotations

from receiver.signatures.kie import verify_kie
from receiver.signatures.standard_webhooks import StandardWebhookVerifier

__all__ = ["StandardWebhookVerifier", "verify_kie"]
