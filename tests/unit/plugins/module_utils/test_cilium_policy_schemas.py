# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every CiliumNetworkPolicy / CiliumClusterwideNetworkPolicy mesh_policies builds, checked
against the schemas of the npm package ``@kubernetes-models/cilium@4.0.0`` (issue 15 #6).

Helper: tests/unit/helpers/cilium_model_schemas.py (npm pack, sha256 pinned, cached in
~/.cache/edgemesh/npm/; offline from the second run). The package's compiled validators
check types, enums, patterns and required fields; unknown fields are found from the
package's own type declarations, because its validators accept them.

Which Cilium: the package was generated from Cilium's Go API types, not from the CRD YAML
(its package.json: ``go-generate`` of ``github.com/cilium/cilium/pkg/k8s/apis/cilium.io/v2``
and ``v2alpha1``); the tarball itself names no Cilium version. The ``go.mod`` of
``third-party/cilium`` in tommy351/kubernetes-models-ts (read with the search tool, stored
commit 03786a462bddb7a5f6bc45a60e8df96cd5fc7346) requires ``github.com/cilium/cilium
v1.19.3``; that this commit is the one 4.0.0 was built from (published 2026-09-16) is
likely but not proven. It is ONE Cilium version (1.19.3), not one per supported Cilium
version: nothing here is evidence for 1.18 or 1.20.
"""

import copy
import pathlib

import pytest
import yaml

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import mesh_policies as mp
from ansible_collections.edgemesh.cluster_mesh.tests.unit.helpers import cilium_model_schemas

ROOT = pathlib.Path(__file__).resolve().parents[4]
EXAMPLE = yaml.safe_load(
    (ROOT / "inventories" / "example" / "group_vars" / "all" / "cilium.yml").read_text()
)
CLUSTERS = [
    {"name": "eu-core", "region": "eu-west"},
    {"name": "eu-edge-1", "region": "eu-west"},
    {"name": "us-core", "region": "us-east"},
]
OPTIONS = {
    "region_isolation": True,
    "isolation_exempt_namespaces": EXAMPLE["global_services_isolation_exempt_namespaces"],
    "isolation_entities": EXAMPLE["global_services_isolation_entities"],
}
# Beside the example's flows: port ranges, UDP/SCTP, namespaces, clusters, both directions.
EXTRA_FLOWS = [
    {
        "name": "eu-to-us-metrics",
        "from_regions": ["eu-west"],
        "from_namespace": ["monitoring", "reports"],
        "from_labels": {"app": "scraper"},
        "to_regions": ["us-east"],
        "to_namespace": "metrics",
        "to_labels": {"app": "collector"},
        "ports": [
            {"port": 30000, "end_port": 30100, "protocol": "udp"},
            {"port": 9100},
            {"port": 9200, "end_port": 9201, "protocol": "SCTP"},
        ],
    },
    {
        "name": "us-to-eu-metrics",
        "from_clusters": ["us-core"],
        "to_clusters": ["eu-edge-1"],
        "to_namespace": "metrics",
        "to_labels": {"app": "collector"},
        "ports": [{"port": 4317, "protocol": "TCP"}, {"port": 53, "protocol": "ANY"}],
    },
]


@pytest.fixture(scope="module")
def schemas():
    return cilium_model_schemas.require()


def built():
    """Every distinct policy the clusters get: example flows, extra flows, both switches."""
    found = {}
    for flows in (EXAMPLE["global_services_allowed_flows"], EXTRA_FLOWS):
        for options in (dict(OPTIONS, baseline=True), dict(OPTIONS, region_isolation=False)):
            for cluster in CLUSTERS:
                for key, policy in mp.wanted_policies(
                    CLUSTERS, cluster["name"], flows, options
                ).items():
                    found.setdefault("%s@%s" % (key, cluster["name"]), policy)
    return found


def test_every_built_policy_validates(schemas):
    policies = built()
    problems = cilium_model_schemas.problems_of(list(policies.values()))
    bad = {k: p for k, p in zip(policies, problems) if p}
    assert bad == {}
    kinds = sorted(set(p["kind"] for p in policies.values()))
    assert kinds == ["CiliumClusterwideNetworkPolicy", "CiliumNetworkPolicy"]
    names = set(p["metadata"]["name"] for p in policies.values())
    assert {mp.BASELINE_NAME, mp.ISOLATION_NAME} <= names
    assert {mp.FLOW_PREFIX + f["name"] for f in EXTRA_FLOWS} <= names
    # 3 baselines, 3 isolations (CCNP); example flows: 3 echo + 2 reports, extra: 1 + 1 (CNP).
    assert len(policies) == 13, sorted(policies)


def test_ranges_and_namespaces_reach_the_schema(schemas):
    (cnp,) = [p for k, p in built().items() if "eu-to-us-metrics@us-core" in k]
    ports = cnp["spec"]["ingress"][0]["toPorts"][0]["ports"]
    assert {"port": "30000", "protocol": "UDP", "endPort": 30100} in ports
    assert cilium_model_schemas.problems_of([cnp]) == [[]]


def first_port(policy):
    return policy["spec"]["ingress"][0]["toPorts"][0]["ports"][0]


def test_an_unknown_field_is_rejected(schemas):
    cnp = mp.wanted_policies(CLUSTERS, "us-core", EXTRA_FLOWS[:1], dict(OPTIONS, baseline=False))
    (cnp,) = [copy.deepcopy(v) for k, v in cnp.items() if "CiliumNetworkPolicy/" in k]
    first_port(cnp)["end_port"] = first_port(cnp).pop("endPort")
    ccnp = copy.deepcopy(mp.baseline_policy(mp.PolicyOptions.from_dict(OPTIONS)))
    ccnp["spec"]["ingress"][0]["fromEntity"] = ccnp["spec"]["ingress"][0].pop("fromEntities")
    cnp_problems, ccnp_problems = cilium_model_schemas.problems_of([cnp, ccnp])
    assert cnp_problems == [
        "/spec/ingress/0/toPorts/0/ports/0/end_port: unknown field"
        " (allowed: endPort, port, protocol)"
    ]
    assert len(ccnp_problems) == 1 and "/spec/ingress/0/fromEntity: unknown field" in (
        ccnp_problems[0]
    )


def test_a_wrong_type_and_a_wrong_enum_are_rejected(schemas):
    cnp = mp.wanted_policies(CLUSTERS, "us-core", EXTRA_FLOWS[:1], dict(OPTIONS, baseline=False))
    (cnp,) = [copy.deepcopy(v) for k, v in cnp.items() if "CiliumNetworkPolicy/" in k]
    first_port(cnp)["port"] = 30000  # the API's port is a string
    first_port(cnp)["protocol"] = "ICMP"  # ICMP is a field of its own, not an L4 protocol
    (problems,) = cilium_model_schemas.problems_of([cnp])
    assert problems == [
        '/spec/ingress/0/toPorts/0/ports/0/port: type (type="string")',
        '/spec/ingress/0/toPorts/0/ports/0/protocol: enum (allowedValues=["TCP", "UDP",'
        ' "SCTP", "VRRP", "IGMP", "ANY"])',
    ]


def test_a_wrong_checksum_installs_nothing(schemas, monkeypatch, tmp_path):
    root = tmp_path / "kubernetes-models-cilium"
    monkeypatch.setattr(cilium_model_schemas, "SHA256", "0" * 64)
    monkeypatch.setattr(cilium_model_schemas, "CACHE", tmp_path)
    monkeypatch.setattr(cilium_model_schemas, "ROOT", root)
    try:
        with pytest.raises(AssertionError, match="pinned 0{64}; nothing installed"):
            cilium_model_schemas.install()
    except cilium_model_schemas.Unreachable as exc:
        pytest.skip("npm unreachable, checksum refusal not exercised: %s" % exc)
    assert not root.exists() and list(tmp_path.iterdir()) == []
