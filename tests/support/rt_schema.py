"""The RT v2 server → client messages as JSON Schema: the official spec's, and a validator.

The schemas are those of the official AsyncAPI spec, ``spec/realtime.yaml`` of
``speechmatics/docs``, vendored unchanged in ``tests/fixtures/rt-spec/`` with its MIT
licence (see the README there for the commit). Its ``components.schemas`` become the
``$defs`` of one JSON Schema per server message type.

One addition, from the docs' prose rather than the spec: ``validation_warning`` in
``WarningTypeEnum``, the type the service documents for configuration it accepted but
dropped (docs: features/custom-dictionary), which the local server uses for every option
it accepts without honouring.

``SMNB_RT_SPEC=/path/to/realtime.yaml`` validates against another copy of the spec (a
newer one, say) instead.
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator

Schema = dict[str, Any]

VENDORED_SPEC = Path(__file__).resolve().parents[1] / "fixtures" / "rt-spec" / "realtime.yaml"

DOCUMENTED_EXTRA_WARNINGS = ("validation_warning",)


def spec_path() -> Path:
    """The spec file in use: ``SMNB_RT_SPEC`` if set, else the vendored copy."""
    override = os.environ.get("SMNB_RT_SPEC")
    return Path(override) if override else VENDORED_SPEC


@cache
def _spec() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(spec_path().read_text(encoding="utf-8"))
    return loaded


def official_schemas() -> dict[str, Schema]:
    """``components.schemas`` of the spec, with refs pointing into ``$defs``."""
    text = json.dumps(_spec()["components"]["schemas"])
    schemas: dict[str, Schema] = json.loads(text.replace("#/components/schemas/", "#/$defs/"))
    return schemas


def _payload(message: str) -> str:
    """The schema name of a server message's payload (the spec names them alike)."""
    ref = _spec()["components"]["messages"][message]["payload"]["$ref"]
    return str(ref).rsplit("/", 1)[-1]


SERVER_MESSAGES = tuple(_spec()["channels"]["subscribe"]["messages"])
"""The spec's server → client messages (its ``subscribe`` channel), in its order."""


@cache
def validators() -> dict[str, Draft202012Validator]:
    """A validator per server message type."""
    defs = official_schemas()
    warning_enum = defs["WarningTypeEnum"]
    warning_enum["enum"] = [*warning_enum["enum"], *DOCUMENTED_EXTRA_WARNINGS]
    out = {}
    for name in SERVER_MESSAGES:
        schema = {"$defs": defs, "$ref": f"#/$defs/{_payload(name)}"}
        Draft202012Validator.check_schema(schema)
        out[name] = Draft202012Validator(schema)
    return out


def problems(message: Any) -> list[str]:
    """Why ``message`` is not a valid server message (empty if it is)."""
    kind = message.get("message") if isinstance(message, dict) else None
    validator = validators().get(str(kind))
    if validator is None:
        return [f"{kind!r} is not a server message type of the spec"]
    return [
        f"{kind}.{'.'.join(str(p) for p in error.absolute_path) or '(root)'}: {error.message}"
        for error in validator.iter_errors(message)
    ]
