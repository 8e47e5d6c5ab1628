"""Looking up a model's schema, with an error listing the models a provider knows."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dispatcher.providers.rules import Schema, show
from receiver.errors import InvalidInput


def schema_for(provider: str, schemas: Mapping[str, Schema], model: Any) -> Schema:
    """The schema of `model`, or InvalidInput(field="model") naming the known models."""
    found = schemas.get(model) if isinstance(model, str) else None
    if found is None:
        raise InvalidInput(
            f"model {show(model)} is not a {provider} model: use one of "
            f"{', '.join(sorted(schemas))}",
            field="model",
            rule="one_of",
            value=show(model),
        )
    return found


class SchemaModels:
    """`models()` and `validate()` of an adapter whose models each have one Schema."""

    name: str

    def __init__(self, schemas: Mapping[str, Schema]) -> None:
        self._schemas = dict(schemas)

    def models(self) -> frozenset[str]:
        """Every model this adapter can submit."""
        return frozenset(self._schemas)

    def validate(self, model: str, task_input: dict[str, Any]) -> dict[str, Any]:
        """Check every documented rule; return the input to send."""
        return schema_for(self.name, self._schemas, model).validate(task_input)
