# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Core Kubernetes objects the collection applies, validated against the official schemas
of every supported Kubernetes minor (mesh_rules.SUPPORTED_KUBERNETES_MINORS) with
kubernetes-validate in strict mode (unknown fields refused) - issue 15 #6.

* the Service patches of the global_services role, for every cluster of the example
  inventory (inventories/example/group_vars/all/cilium.yml): a patch is sent as an object of
  its kind, so it must be a valid one;
* the patches that release a Service no longer listed;
* the state Secret of state_backend.SecretStateBackend.

The Cilium policies are CRD objects, for which kubernetes-validate has no schema.
"""

import pathlib

import pytest
import yaml

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import (
    global_services,
    mesh_rules,
    state_backend,
)
from ansible_collections.edgemesh.cluster_mesh.tests.unit.helpers.kube_schemas import (
    core_problems,
)

ROOT = pathlib.Path(__file__).resolve().parents[4]
EXAMPLE = yaml.safe_load(
    (ROOT / "inventories" / "example" / "group_vars" / "all" / "cilium.yml").read_text()
)
CLUSTERS = [
    {"name": "eu-core", "region": "eu-west"},
    {"name": "eu-edge-1", "region": "eu-west"},
    {"name": "us-core", "region": "us-east"},
]
MINORS = mesh_rules.SUPPORTED_KUBERNETES_MINORS


def service_patches():
    patches = {}
    for cluster in CLUSTERS:
        patches.update(
            global_services.wanted_services(
                EXAMPLE["global_services_services"], cluster["name"], CLUSTERS
            )
        )
    return patches


def release_patches():
    """The patches that take the role's annotations and label off (nulls: the schemas
    allow null label and annotation values, which is what a merge patch deletes with)."""
    found = {"results": [{"resources": list(service_patches().values())}]}
    return global_services.cleanup(found, {})["release"]


def state_secret():
    backend = state_backend.SecretStateBackend(None, "edgemesh", "mesh-state")
    return backend._body({"mesh-state.json": "{}\n"}, "42")


COUNTED = {}


@pytest.mark.parametrize("minor", MINORS)
def test_core_objects_are_valid_for_every_supported_minor(minor):
    objects = list(service_patches().values()) + release_patches() + [state_secret()]
    assert len(objects) >= 3
    for manifest in objects:
        assert core_problems(manifest, minor) == [], manifest
    COUNTED[minor] = len(objects)


@pytest.mark.parametrize("minor", MINORS)
def test_the_schemas_refuse_what_the_api_would(minor):
    """The validation can fail: a wrong type, an unknown field."""
    patch = list(service_patches().values())[0]
    wrong = yaml.safe_load(yaml.safe_dump(patch))
    wrong["metadata"]["annotations"]["service.cilium.io/global"] = True
    assert core_problems(wrong, minor) == [
        "metadata.annotations.service.cilium.io/global: True is not of type 'string', 'null'"
    ]
    unknown = yaml.safe_load(yaml.safe_dump(patch))
    unknown["metadata"]["annotation"] = {}
    assert core_problems(unknown, minor)[0].startswith("metadata: Additional properties")
