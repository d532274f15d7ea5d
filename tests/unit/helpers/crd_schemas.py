# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test helper: check a custom resource against the openAPIV3Schema of its CRD.

``crd_problems(manifest, crd_path)`` finds the version of the CRD named by the manifest's
``apiVersion`` (group and kind must match too) and validates the manifest with jsonschema
as the API server would with strict field validation (kubectl's default since 1.27):

* a field the schema does not declare is refused (``additionalProperties: false`` wherever
  the schema lists ``properties`` and neither ``additionalProperties`` nor
  ``x-kubernetes-preserve-unknown-fields`` is set);
* ``nullable: true`` admits null; ``x-kubernetes-int-or-string`` admits both types.

``format`` is not checked (the API server's formats, such as ``cidr``, are not jsonschema's).
Returns "path: message" lines, empty when the manifest is valid.
"""

import copy

import jsonschema
import yaml

_NESTED = ("items", "additionalProperties", "not")
_LISTS = ("allOf", "anyOf", "oneOf")


def _strict(schema):
    if not isinstance(schema, dict):
        return schema
    schema = dict(schema)
    if schema.get("x-kubernetes-int-or-string") and "anyOf" not in schema:
        schema["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if schema.get("nullable") and isinstance(schema.get("type"), str):
        schema["type"] = [schema["type"], "null"]
    if "properties" in schema:
        schema["properties"] = {k: _strict(v) for k, v in schema["properties"].items()}
        if "additionalProperties" not in schema and not schema.get(
            "x-kubernetes-preserve-unknown-fields"
        ):
            schema["additionalProperties"] = False
    for key in _NESTED:
        if isinstance(schema.get(key), dict):
            schema[key] = _strict(schema[key])
    for key in _LISTS:
        if isinstance(schema.get(key), list):
            schema[key] = [_strict(item) for item in schema[key]]
    return schema


def crd_schema(crd_path, api_version, kind):
    """The strict JSON schema of ``kind`` at ``api_version`` (group/version) in the CRD."""
    crd = yaml.safe_load(crd_path.read_text(encoding="utf-8"))
    spec = crd["spec"]
    if spec["names"]["kind"] != kind:
        raise AssertionError("%s defines %s, not %s" % (crd_path, spec["names"]["kind"], kind))
    group, version = api_version.split("/", 1)
    if group != spec["group"]:
        raise AssertionError("%s is group %s, not %s" % (crd_path, spec["group"], group))
    for entry in spec["versions"]:
        if entry["name"] == version and entry.get("served", True):
            return _strict(copy.deepcopy(entry["schema"]["openAPIV3Schema"]))
    raise AssertionError("%s serves no version %s" % (crd_path, version))


def crd_problems(manifest, crd_path):
    schema = crd_schema(crd_path, manifest["apiVersion"], manifest["kind"])
    validator = jsonschema.Draft7Validator(schema)
    return [
        "%s: %s" % (".".join(str(p) for p in error.absolute_path) or "<root>", error.message)
        for error in sorted(validator.iter_errors(manifest), key=lambda e: list(e.absolute_path))
    ]
