"""JSON Schemas of the admin API's bodies and of the events (OpenAPI 3.1 components)."""

from __future__ import annotations

from typing import Any

from receiver.statuses import DELIVERY_STATES, TASK_STATUSES
from receiver.store.events import ALL_EVENT_TYPES

Schema = dict[str, Any]
TIME = {"type": "string", "format": "date-time"}


def ref(name: str) -> Schema:
    """A reference to a component schema."""
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: Schema) -> Schema:
    """`schema` or null."""
    return {"anyOf": [schema, {"type": "null"}]}


def obj(required: dict[str, Schema], optional: dict[str, Schema] | None = None) -> Schema:
    """An object with these required (and optional) properties; others are allowed."""
    return {
        "type": "object",
        "required": list(required),
        "properties": {**required, **(optional or {})},
    }


def page_of(item: str) -> Schema:
    """`{"items": [...], "next_cursor": ...}`."""
    return obj({"items": {"type": "array", "items": ref(item)},
                "next_cursor": nullable({"type": "string"})})  # fmt: skip


KINDS = ["webhook", "slack", "discord", "redis", "nats", "amqp"]
STR, INT, BOOL = {"type": "string"}, {"type": "integer"}, {"type": "boolean"}
ANY_OBJECT: Schema = {"type": "object"}
CODE_MESSAGE = obj({"code": STR, "message": STR})

TASK = obj({
    "id": STR, "provider": STR, "model": STR, "status": {"enum": sorted(TASK_STATUSES)},
    "progress": INT, "provider_task_id": nullable(STR),
    "mode": {"enum": ["callback", "poll"]}, "input": {}, "result": nullable(ANY_OBJECT),
    "error": nullable(ANY_OBJECT), "parent_id": nullable(STR), "external": BOOL,
    "source": nullable(STR), "poll_count": INT, "created_at": TIME, "updated_at": TIME,
    "completed_at": nullable(TIME),
}, {"erased_at": nullable(TIME), "history": {"type": "array", "items": ANY_OBJECT},
    "metadata": nullable(ANY_OBJECT), "cost": nullable(ANY_OBJECT),
    "expires_at": nullable(TIME), "estimate": nullable(ANY_OBJECT)})  # fmt: skip

EVENT = obj({"type": STR, "id": STR, "created_at": TIME, "data": ANY_OBJECT})

SUBSCRIBER = obj({
    "id": STR, "url": STR, "kind": {"enum": KINDS},
    "filter": {"type": "object", "additionalProperties": {"type": "array", "items": STR}},
    "enabled": BOOL, "paused": BOOL, "disabled_reason": nullable(STR),
    "failing_since": nullable(TIME), "previous_secret_valid_until": nullable(TIME),
    "created_at": TIME, "updated_at": TIME,
    "headers": {"type": "object", "additionalProperties": {"const": "***"}},
})  # fmt: skip

SUBSCRIBER_WITH_SECRET = {"allOf": [SUBSCRIBER, obj({"secret": nullable(STR)})]}

HEADERS_IN = {"type": "object", "maxProperties": 10, "additionalProperties": STR,
              "description": "custom headers (webhooks only); values stored encrypted"}  # fmt: skip
FILTER_IN = {"type": "object", "description": 'e.g. {"type": ["task.*"], "provider": "kie"}'}

NEW_SUBSCRIBER = obj(
    {"url": {"type": "string", "format": "uri"}},
    {"kind": {"enum": KINDS}, "filter": FILTER_IN,
     "headers": HEADERS_IN},
)  # fmt: skip
SUBSCRIBER_PATCH = {**obj({}, {"paused": BOOL, "enabled": BOOL, "filter": FILTER_IN,
                               "headers": HEADERS_IN}), "minProperties": 1}  # fmt: skip

ATTEMPT = obj({"attempt_no": INT, "at": TIME, "status_code": nullable(INT),
               "latency_ms": nullable(INT), "outcome": STR, "error": nullable(STR)})  # fmt: skip
DELIVERY = obj({
    "id": STR, "event_id": STR, "subscriber_id": STR, "generation": INT,
    "state": {"enum": list(DELIVERY_STATES)}, "attempt_count": INT,
    "due_at": nullable(TIME), "last_status": nullable(INT), "last_error": nullable(STR),
    "created_at": TIME, "updated_at": TIME, "delivered_at": nullable(TIME),
    "attempts": {"type": "array", "items": ref("Attempt")},
})  # fmt: skip
QUEUED = obj({"queued": {"type": "array", "items": obj({
    "id": STR, "event_id": STR, "subscriber_id": STR, "generation": INT})}})  # fmt: skip

CALLBACK = obj({
    "id": STR, "provider": STR, "route": STR, "verdict": STR, "reason": nullable(STR),
    "status_code": INT, "task_id": nullable(STR), "provider_task_id": nullable(STR),
    "headers": {}, "body": nullable(STR), "received_at": TIME,
})  # fmt: skip

PROBE = obj({"event_id": STR, "delivered": BOOL, "status_code": nullable(INT),
             "latency_ms": INT, "body_head": STR, "error": nullable(STR)})  # fmt: skip
TICK = obj({"handled": {"type": "object", "additionalProperties": INT}, "total": INT,
            "rounds": INT, "failed": {"type": "array", "items": STR}})  # fmt: skip
NEW_TASK = obj({"provider": STR, "model": STR, "input": ANY_OBJECT},
               {"then": {}, "webhook": {"type": "string", "format": "uri"},
                "metadata": {"type": "object", "description": "at most 4 KiB"}})  # fmt: skip
MEDIA_FILE = obj({"source_url": STR, "status": STR}, {"url": nullable(STR), "name": STR,
    "sha256": nullable(STR), "bytes": nullable(INT), "content_type": nullable(STR)})  # fmt: skip
ERROR = obj({"error": obj({"code": STR, "message": STR},
                          {"field": nullable(STR), "rule": {}, "value": {}})})  # fmt: skip

EVENT_DATA = {
    "task": obj({"task_id": STR, "provider": STR, "model": STR, "status": STR}, {
        "provider_task_id": nullable(STR), "result": nullable(ANY_OBJECT),
        "error": nullable(CODE_MESSAGE), "source": STR, "prompt": nullable(STR),
        "parent_id": nullable(STR), "metadata": nullable(ANY_OBJECT),
        "cost": nullable(ANY_OBJECT), "expires_at": nullable(TIME)}),
    "subscriber.disabled": obj({"subscriber_id": STR, "kind": STR, "url": STR, "reason": STR}),
    "delivery.exhausted": obj({
        "delivery_id": STR, "event_id": STR, "event_type": STR, "subscriber_id": STR,
        "attempts": INT, "last_status": nullable(INT), "last_error": nullable(STR)},
        {"task_id": nullable(STR)}),
    "taskhook.test": obj({"subscriber_id": STR, "message": STR}),
}  # fmt: skip


def event_payload(event_type: str) -> Schema:
    """The body a subscriber receives for one event type (`webhook-id` = `id`)."""
    data = EVENT_DATA["task" if event_type.startswith("task.") else event_type]
    body = obj({"type": {"const": event_type}, "id": STR, "created_at": TIME, "data": data})
    return body


def webhook_types() -> list[str]:
    """Every event type a subscriber can receive, test events included."""
    return [*ALL_EVENT_TYPES, "taskhook.test"]


COMPONENTS: dict[str, Schema] = {
    "Task": TASK, "TaskPage": page_of("Task"), "NewTask": NEW_TASK,
    "Event": EVENT, "EventPage": page_of("Event"),
    "Subscriber": SUBSCRIBER, "SubscriberWithSecret": SUBSCRIBER_WITH_SECRET,
    "SubscriberPage": page_of("Subscriber"), "NewSubscriber": NEW_SUBSCRIBER,
    "SubscriberPatch": SUBSCRIBER_PATCH, "Attempt": ATTEMPT, "Delivery": DELIVERY,
    "DeliveryPage": page_of("Delivery"), "Queued": QUEUED, "Callback": CALLBACK,
    "CallbackPage": page_of("Callback"), "TestResult": PROBE, "Tick": TICK, "Error": ERROR,
    "MediaList": obj({"items": {"type": "array", "items": MEDIA_FILE}}),
}  # fmt: skip
