"""What each `/api` operation takes and answers, keyed by (method, path) as routed.

The paths themselves come from the app's routing table (see `document.py`); a test
checks that every routed `/api` operation has an entry here and no entry is stale.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from receiver.openapi.schemas import Schema

LIST_PARAMS = ("limit", "cursor")


@dataclass(frozen=True)
class Operation:
    """One operation: its summary, query parameters, request body and answers."""

    summary: str
    ok: int = 200
    answer: str | None = None  # component name of the success body (None: no body)
    body: str | None = None  # component name of the JSON request body
    body_required: bool = True
    query: tuple[str, ...] = ()
    errors: tuple[int, ...] = ()
    headers: tuple[str, ...] = ()
    tag: str = "admin"
    extra_query: dict[str, Schema] = field(default_factory=dict)


def _list(summary: str, answer: str, *filters: str, tag: str) -> Operation:
    return Operation(summary, answer=answer, query=(*LIST_PARAMS, *filters), tag=tag)


OPERATIONS: dict[tuple[str, str], Operation] = {
    ("GET", "/api/tasks"): _list(
        "List tasks, newest first", "TaskPage", "status", "provider", "model", "parent_id",
        tag="tasks"),
    ("POST", "/api/tasks"): Operation(
        "Submit a task to a provider", 202, "Task", "NewTask", errors=(503,),
        headers=("Idempotency-Key",), tag="tasks"),
    ("GET", "/api/tasks/{id}"): Operation("One task with its timeline", answer="Task", tag="tasks"),
    ("GET", "/api/tasks/{task_id}/media"): Operation(
        "A task's archived result files with fresh links", answer="MediaList", errors=(404,),
        tag="tasks"),
    ("DELETE", "/api/tasks/{id}"): Operation(
        "Erase a finished task's content (prompt, input, result); a tombstone stays",
        answer="Task", errors=(409,), tag="tasks"),
    ("GET", "/api/events"): _list("List events, newest first", "EventPage", "task_id", "type",
                                  tag="events"),
    ("GET", "/api/events/{id}"): Operation("One event as subscribers get it", answer="Event",
                                           tag="events"),
    ("POST", "/api/events/{id}/replay"): Operation(
        "Queue an event again (same webhook-id)", 202, "Queued", "ReplayOne",
        body_required=False, errors=(409,), tag="deliveries"),
    ("GET", "/api/callbacks"): _list(
        "The inbound callback audit log", "CallbackPage", "provider", "verdict", "task_id",
        "provider_task_id", tag="callbacks"),
    ("GET", "/api/callbacks/{id}"): Operation("One inbound callback", answer="Callback",
                                              tag="callbacks"),
    ("POST", "/api/subscribers"): Operation(
        "Add a subscriber (its secret is shown once)", 201, "SubscriberWithSecret",
        "NewSubscriber", errors=(500,), tag="subscribers"),
    ("GET", "/api/subscribers"): _list("List subscribers", "SubscriberPage", "kind",
                                       tag="subscribers"),
    ("GET", "/api/subscribers/{id}"): Operation("One subscriber", answer="Subscriber",
                                                tag="subscribers"),
    ("PATCH", "/api/subscribers/{id}"): Operation(
        "Pause, resume, re-enable, change filter or headers", answer="Subscriber",
        body="SubscriberPatch", tag="subscribers"),
    ("DELETE", "/api/subscribers/{id}"): Operation(
        "Remove a subscriber (pending deliveries become dead)", 204, tag="subscribers"),
    ("POST", "/api/subscribers/{id}/rotate-secret"): Operation(
        "New signing secret; the old one signs too for 24 h", answer="SubscriberWithSecret",
        tag="subscribers"),
    ("POST", "/api/subscribers/{id}/test"): Operation(
        "Send a signed taskhook.test event now and report the answer (nothing is queued)",
        answer="TestResult", tag="subscribers"),
    ("GET", "/api/deliveries"): _list(
        "Deliveries with their attempts", "DeliveryPage", "state", "subscriber_id", "event_id",
        tag="deliveries"),
    ("POST", "/api/deliveries/replay-dead"): Operation(
        "Queue every dead delivery again", 202, "Queued", "ReplayDead", body_required=False,
        tag="deliveries"),
    ("POST", "/api/tick"): Operation(
        "One bounded pass of all background work (serverless)", answer="Tick",
        query=("rounds",), tag="operations"),
}  # fmt: skip

QUERY_SCHEMAS: dict[str, Schema] = {
    "limit": {"type": "integer", "minimum": 1, "maximum": 500, "default": 50},
    "rounds": {"type": "integer", "minimum": 1},
}
