# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters global_services and managed_cleanup: thin wrappers, errors prefixed."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.edgemesh.cluster_mesh.plugins.filter.global_services import (
    FilterModule as ServicesFilters,
)
from ansible_collections.edgemesh.cluster_mesh.plugins.filter.managed_cleanup import (
    FilterModule as CleanupFilters,
)

CLUSTERS = [{"name": "eu-core", "region": "eu-west"}]
services = ServicesFilters().filters()["global_services"]
cleanup = CleanupFilters().filters()["managed_cleanup"]


def test_global_services_filter():
    assert list(services([{"name": "echo"}], "eu-core", CLUSTERS)) == ["Service/default/echo"]
    with pytest.raises(AnsibleFilterError, match="^global_services: cluster is ''"):
        services([], "", CLUSTERS)
    with pytest.raises(AnsibleFilterError, match="^global_services: global service default/e:"):
        services([{"name": "e", "affinity": "x"}], "eu-core", CLUSTERS)


def test_managed_cleanup_filter():
    assert cleanup({"results": []}, {}) == {"delete": [], "release": []}
    with pytest.raises(AnsibleFilterError, match="^managed_cleanup: found objects are"):
        cleanup(None, {})
