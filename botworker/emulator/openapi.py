"""Discord's own OpenAPI description, the yardstick for the emulator's REST shapes.

The emulator is only worth having if it answers the way Discord does, so tests check its request
and response bodies against Discord's published OpenAPI 3.1 spec rather than against shapes we
imagined. The spec is vendored beside this module (`discord-openapi.json`, discord/discord-api-spec
commit 74fda0f of 2026-07-18, MIT licence in `DISCORD-OPENAPI-LICENSE`) so the repository needs
nothing outside itself. Where spec and documentation disagree the documentation wins: such spots
are patched in `_ERRATA`, each with its reason.

* Lazy: nothing is read until `spec` is first used (the JSON is 1.1 MB), and jsonschema, a dev
  dependency, is imported on the first validation only.
* `$ref`s resolve across the whole document through a `referencing` registry that holds it as one
  JSON Schema 2020-12 resource; a `Draft202012Validator` per schema is built on first use and
  cached. Enum-style `oneOf`s of `const`s are rewritten as `enum` at load (see
  `consts_to_enums`), which makes validation up to three times faster and messages clearer.
* Nullable fields are plain 2020-12 (`type: [x, "null"]`, `oneOf: [{type: null}, ...]`) and need
  no help. Formats: `date-time` (ISO 8601 with an offset, as Discord sends), `uri` (absolute,
  with a scheme, so `wss://` and `attachment://` pass) and `int32` (range) are checked;
  `snowflake`, `int64`, `nonce` and `double` are not, as their schemas already carry the real
  constraint (pattern, minimum/maximum, maxLength, type).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, urlsplit

from .schema_rules import consts_to_enums, describe, format_checker, leaves, spelled

if TYPE_CHECKING:
    from jsonschema.protocols import Validator

SPEC_PATH = Path(__file__).with_name("discord-openapi.json")
SPEC_COMMIT = "74fda0f"
API_PREFIX = "/api/v10"
_DOC_URI = "urn:discord-openapi"  # the document has no $id; its refs resolve against this
_METHODS = ("get", "put", "post", "patch", "delete")
_JSON, _MULTIPART = "application/json", "multipart/form-data"
_FILE_PART = "<binary>"  # stands in for a file part: `contentEncoding: binary` is annotation only
_MAX_MESSAGE = 400

# Spots where the spec contradicts Discord's documentation, which wins (JSON pointer -> schema).
_ERRATA: dict[str, Any] = {
    # Docs' 50035 example: per-field `_errors` carry string codes ("BASE_TYPE_REQUIRED"), but the
    # spec reuses the top-level Error schema there, whose `code` is an integer.
    "/components/schemas/InnerErrors/properties/_errors/items": {
        "type": "object",
        "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
        "required": ["code", "message"],
    },
    # Docs' rate-limit response structure: `code` only "for some limits"; the spec requires it.
    "/components/schemas/RatelimitedResponse/allOf/0": {
        "type": "object",
        "properties": {"code": {"type": "integer"}, "message": {"type": "string"}},
        "required": ["message"],
    },
    # Docs' "Uploading Files" example, and nextcord, give a new upload's id as its index n in
    # `files[n]` (`"id": 0`); the spec allows only snowflake strings there.
    "/components/schemas/MessageAttachmentRequest/properties/id": {
        "anyOf": [{"$ref": "#/components/schemas/SnowflakeType"}, {"type": "integer", "minimum": 0}]
    },
    # Docs' Create Guild Role: `permissions` is a string (the "Permissions" topic serialises
    # bit sets as strings, and nextcord sends one); the spec has an integer only.
    "/components/schemas/CreateRoleRequest/properties/permissions": {
        "anyOf": [
            {"type": "null"},
            {"type": "string", "pattern": "^[0-9]+$"},
            {"type": "integer", "minimum": 0},
        ]
    },
    # The docs' Snowflake note: ids are *returned* as strings to spare 64-bit overflows; requests
    # may carry them as integers, which nextcord does for a DM's `recipient_id`.
    "/components/schemas/CreatePrivateChannelRequest/properties/recipient_id": {
        "anyOf": [
            {"type": "null"},
            {"$ref": "#/components/schemas/SnowflakeType"},
            {"type": "integer", "minimum": 0},
        ]
    },
}


@dataclass(frozen=True)
class Operation:
    """A spec operation matched by a concrete request path."""

    method: str  # upper case
    template: str  # e.g. "/channels/{channel_id}/invites"
    operation_id: str
    path_params: dict[str, str] = field(compare=False)
    definition: dict[str, Any] = field(compare=False, repr=False)

    @property
    def pointer(self) -> str:
        return f"/paths/{_escape(self.template)}/{self.method.lower()}"


class OpenAPISpec:
    """Lazy view of the spec: route matching plus cached JSON Schema validators."""

    def __init__(self, path: Path = SPEC_PATH) -> None:
        self.path = path
        self._validators: dict[tuple[str, bool], Validator] = {}

    @cached_property
    def document(self) -> dict[str, Any]:
        document = json.loads(self.path.read_text(encoding="utf-8"))
        for pointer, schema in _ERRATA.items():
            parent, _, key = pointer.rpartition("/")
            container = _resolve_pointer(document, parent)
            container[int(key) if isinstance(container, list) else key] = schema
        consts_to_enums(document)
        return document

    @cached_property
    def _routes(self) -> list[tuple[tuple[str, ...], str, dict[str, Any]]]:
        """(segments, template, path item), literal segments before `{params}` position by
        position, so `/users/@me` wins over `/users/{user_id}`."""
        routes = [(tuple(t.strip("/").split("/")), t, i) for t, i in self.document["paths"].items()]
        return sorted(routes, key=lambda r: [s.startswith("{") for s in r[0]])

    def find_operation(self, method: str, path: str) -> Operation | None:
        """The most specific operation for `method` on a concrete path (a full URL, with or
        without `/api/v10`, query ignored), or None. A literal template lacking the method does
        not hide a `{param}` one that has it."""
        segments = _segments(path)
        for template_segments, template, item in self._routes:
            params = _match(template_segments, segments)
            if params is not None and (definition := item.get(method.lower())) is not None:
                op_id = definition["operationId"]
                return Operation(method.upper(), template, op_id, params, definition)
        return None

    def validate_response(self, method: str, path: str, status: int, body: Any) -> list[str]:
        """Error strings (empty: valid) for a response body, decoded JSON or raw bytes.

        The schema is the one for `status`, else its `4XX`-style range, else `default`. A response
        documented without content (204) must have no body (None, b"" or ""). Non-JSON contents
        (widget.png, a CSV) are not checked.
        """
        op, errors = self._operation(method, path)
        if op is None:
            return errors
        responses = op.definition["responses"]
        keys = (str(status), f"{status // 100}XX", "default")
        key = next((k for k in keys if k in responses), None)
        where = f"{op.method} {op.template} {status}"
        if key is None:
            return [f"{where}: status not in Discord's spec (has {', '.join(responses)})"]
        pointer, response = self._deref(f"{op.pointer}/responses/{key}")
        content = response.get("content")
        if not content:
            return [] if _is_empty(body) else [f"{where}: must have no body, got {_short(body)}"]
        if _JSON not in content:
            return []
        return self._check(f"{pointer}/content/{_escape(_JSON)}/schema", body, where)

    def validate_request(
        self, method: str, path: str, body: Any, content_type: str = _JSON
    ) -> list[str]:
        """Error strings (empty: valid) for a request body against the operation's requestBody.

        `application/json`: decoded JSON or raw bytes. `multipart/form-data`: a mapping of form
        fields; `payload_json` (what nextcord sends) is decoded and merged with the other fields,
        file parts (bytes) become a placeholder string, and the whole is checked against the
        spec's multipart schema. `application/x-www-form-urlencoded`: a mapping or the encoded
        string. Plain form fields are strings, so there a string spelling an integer, number or
        boolean is read as that value. Discord's OAuth2 token endpoint (form-encoded) is not in
        the spec at all: it gets "no such route".
        """
        op, errors = self._operation(method, path)
        if op is None:
            return errors
        where = f"{op.method} {op.template} request"
        if "requestBody" not in op.definition:
            return [] if _is_empty(body) else [f"{where}: takes no body, got {_short(body)}"]
        pointer, request_body = self._deref(f"{op.pointer}/requestBody")
        if _is_empty(body):
            return [f"{where}: a body is required"] if request_body.get("required") else []
        media = content_type.split(";")[0].strip().lower()
        if media not in request_body["content"]:
            return [f"{where}: {media} not accepted (takes {', '.join(request_body['content'])})"]
        schema = f"{pointer}/content/{_escape(media)}/schema"
        if media == _JSON:
            return self._check(schema, body, where)
        try:
            instance, lenient = _form_instance(body, multipart=media == _MULTIPART)
        except (TypeError, ValueError) as exc:
            return [f"{where}: unreadable {media} body: {exc}"]
        return self._check(schema, instance, where, lenient=lenient)

    def _operation(self, method: str, path: str) -> tuple[Operation | None, list[str]]:
        if (op := self.find_operation(method, path)) is not None:
            return op, []
        segments = _segments(path)
        matching = [item for s, _, item in self._routes if _match(s, segments) is not None]
        allowed = sorted(m.upper() for item in matching for m in _METHODS if m in item)
        if allowed:
            return None, [f"{method.upper()} {path}: method not in Discord's spec (has {allowed})"]
        return None, [f"{method.upper()} {path}: no such route in Discord's spec"]

    def _deref(self, pointer: str) -> tuple[str, dict[str, Any]]:
        """Follow local `$ref`s (e.g. to components/responses) to a concrete object."""
        node = _resolve_pointer(self.document, pointer)
        while "$ref" in node:
            pointer = node["$ref"].removeprefix("#")
            node = _resolve_pointer(self.document, pointer)
        return pointer, node

    def _check(self, schema: str, instance: Any, where: str, *, lenient: bool = False) -> list[str]:
        if isinstance(instance, bytes | bytearray):  # a raw JSON body
            try:
                instance = json.loads(instance)
            except ValueError as exc:
                return [f"{where}: body is not JSON: {exc}"]
        messages: list[str] = []
        for error in self._validator(schema, lenient).iter_errors(instance):
            for leaf in leaves(error):
                message = f"{where}: {leaf.json_path}: {describe(leaf)}"[:_MAX_MESSAGE]
                if message not in messages:
                    messages.append(message)
        return messages

    def _validator(self, pointer: str, lenient: bool) -> Validator:
        """The cached validator for the schema at `pointer`, built on first use."""
        if (pointer, lenient) not in self._validators:
            from jsonschema import Draft202012Validator

            cls = self._form_validator_class if lenient else Draft202012Validator
            ref = {"$ref": f"{_DOC_URI}#{quote(pointer, safe='/~')}"}
            validator = cls(ref, registry=self._registry, format_checker=format_checker())
            self._validators[pointer, lenient] = validator
        return self._validators[pointer, lenient]

    @cached_property
    def _registry(self) -> Any:
        from referencing import Registry, Resource
        from referencing.jsonschema import DRAFT202012

        resource = Resource.from_contents(self.document, default_specification=DRAFT202012)
        return Registry().with_resource(_DOC_URI, resource)

    @cached_property
    def _form_validator_class(self) -> type[Validator]:
        """Draft 2020-12 reading form-field strings that spell an integer, number or boolean as
        that value: `type` accepts them, and numeric and enum keywords see the value."""
        from jsonschema import Draft202012Validator, validators

        base = Draft202012Validator.TYPE_CHECKER
        checker = base.redefine_many(
            {
                name: lambda _, value, name=name: base.is_type(spelled(value), name)
                for name in ("integer", "number", "boolean")
            }
        )
        keywords = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "enum", "const")
        originals = Draft202012Validator.VALIDATORS
        wrapped = {
            k: lambda v, arg, value, schema, k=k: originals[k](v, arg, spelled(value), schema)
            for k in keywords
        }
        return validators.extend(Draft202012Validator, wrapped, type_checker=checker)


def _form_instance(body: Any, *, multipart: bool) -> tuple[dict[str, Any], bool]:
    """The JSON-like instance a form body stands for, and whether it needs lenient typing."""
    if isinstance(body, bytes | bytearray):
        body = body.decode()
    fields = dict(parse_qsl(body, keep_blank_values=True)) if isinstance(body, str) else body
    if not isinstance(fields, Mapping):
        raise TypeError(f"expected a mapping of form fields, got {type(body).__name__}")
    instance: dict[str, Any] = {}
    lenient = False
    for name, value in fields.items():
        if multipart and name == "payload_json":
            instance.update(json.loads(value))
        elif isinstance(value, bytes | bytearray):
            instance[name] = _FILE_PART
        else:
            instance[name], lenient = value, True
    return instance, lenient


def _segments(path: str) -> tuple[str, ...]:
    path = urlsplit(path).path.rstrip("/")
    if path == API_PREFIX or path.startswith(API_PREFIX + "/"):
        path = path[len(API_PREFIX) :]
    return tuple(path.strip("/").split("/"))


def _match(template: tuple[str, ...], segments: tuple[str, ...]) -> dict[str, str] | None:
    if len(template) != len(segments):
        return None
    params: dict[str, str] = {}
    for want, got in zip(template, segments, strict=True):
        if want.startswith("{") and got:
            params[want[1:-1]] = got
        elif want != got:
            return None
    return params


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _resolve_pointer(document: Any, pointer: str) -> Any:
    for token in pointer.removeprefix("/").split("/"):
        token = token.replace("~1", "/").replace("~0", "~")
        document = document[int(token) if isinstance(document, list) else token]
    return document


def _is_empty(body: Any) -> bool:
    return body is None or (isinstance(body, str | bytes | bytearray) and not body)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _summary(schema: dict[str, Any] | None) -> str:
    """One line for humans: component names, or the type and required fields."""
    if schema is None:
        return "no JSON body"
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    for union, joiner in (("oneOf", " | "), ("anyOf", " | "), ("allOf", " & ")):
        if union in schema:
            return joiner.join(_summary(s) for s in schema[union])
    if "items" in schema:
        return f"array of {_summary(schema['items'])}"
    required = ", ".join(schema.get("required", []))
    return str(schema.get("type", "any")) + (f" (required: {required})" if required else "")


def main(argv: list[str]) -> int:
    """`python -m botworker.emulator.openapi [METHOD] PATH`: what Discord's spec says there."""
    if not 1 <= len(argv) <= 2:
        print("usage: python -m botworker.emulator.openapi [METHOD] /channels/123/invites")
        return 2
    methods = argv[:1] if len(argv) == 2 else _METHODS
    found = [op for m in methods if (op := spec.find_operation(m, argv[-1]))]
    for op in found:
        print(f"{op.method} {op.template}  ({op.operation_id})")
        if "requestBody" in op.definition:
            for media, content in spec._deref(f"{op.pointer}/requestBody")[1]["content"].items():
                print(f"  request {media}: {_summary(content['schema'])}")
        for status in op.definition["responses"]:
            content = spec._deref(f"{op.pointer}/responses/{status}")[1].get("content", {})
            print(f"  {status}: {_summary(content.get(_JSON, {}).get('schema'))}")
    if not found:
        print(f"no operation for {' '.join(argv)} in Discord's spec")
    return 0 if found else 1


spec = OpenAPISpec()

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
