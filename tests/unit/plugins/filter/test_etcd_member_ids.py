"""The etcd_member_ids filter: argument checks and errors prefixed with its name (the logic
is tested in tests/unit/plugins/module_utils/test_rolling_removal.py). The input has the
shape of `etcdctl member list -w json` (IDs are uint64 numbers, printed in hex by
`etcdctl member list` and taken in hex by `etcdctl member remove`)."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.edgemesh.cluster_mesh.plugins.filter.etcd_member_ids import (
    FilterModule,
)

MEMBERS = FilterModule().filters()["etcd_member_ids"]
LISTING = {
    "members": [
        {"ID": 3735928559, "name": "c2", "peerURLs": ["https://198.51.100.2:2380"]},
        {"ID": 11259375, "name": "c1", "peerURLs": ["https://198.51.100.1:2380"]},
    ]
}


def test_etcd_member_ids_filter():
    assert MEMBERS(LISTING, "c2", ["198.51.100.2"]) == ["deadbeef"]
    assert MEMBERS(LISTING, "other", ["198.51.100.1"]) == ["abcdef"]
    assert MEMBERS(LISTING, "c3") == []


@pytest.mark.parametrize(
    "listing, name, ips, message",
    [
        (LISTING, "c2", "198.51.100.2", "^etcd_member_ids: node_ips must be a list"),
        (LISTING, None, [], "^etcd_member_ids: node_name must be a Node name, got None$"),
        ("text", "c2", [], "^etcd_member_ids: the member list is not `etcdctl member list"),
        (
            {"members": [{"name": "c2"}]},
            "c2",
            [],
            "^etcd_member_ids: member #0 has no numeric ID: ",
        ),
        (
            {"members": [{"name": "c2", "ID": "x"}]},
            "c2",
            [],
            "^etcd_member_ids: member #0 has no numeric ID: ",
        ),
    ],
    ids=["ips-string", "no-name", "not-a-listing", "no-id", "bad-id"],
)
def test_etcd_member_ids_filter_errors(listing, name, ips, message):
    with pytest.raises(AnsibleFilterError, match=message):
        MEMBERS(listing, name, ips)
