"""Where one subscriber's messages go: its URL, signing secrets and custom headers, decrypted."""

from __future__ import annotations

from receiver.clock import now_ms
from receiver.db import Row
from receiver.fanout.custom_headers import unseal
from receiver.fanout.sinks import Sink, Target
from receiver.secretbox import SecretBox


def target_for(sub: Row, box: SecretBox, sink: Sink) -> Target:
    """The delivery target of one subscriber row (secrets current first)."""
    secrets: list[str] = []
    url = sub["url"]
    if sub["secret_enc"]:
        plain = box.decrypt(sub["secret_enc"], sub["id"])
        if sink.url_is_secret:
            url = plain
        else:
            secrets.append(plain)
    if sub["old_secret_enc"] and (sub["old_secret_until"] or 0) > now_ms():
        secrets.append(box.decrypt(sub["old_secret_enc"], sub["id"]))
    headers = unseal(box, sub["id"], sub.get("headers_enc"))
    return Target(sub["id"], sub["kind"], url, sub["url"], tuple(secrets), headers)
