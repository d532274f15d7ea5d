# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The k3s_registries filter: registries.yaml from the role's two knobs (layout:
docs.k3s.io/installation/private-registry); errors are AnsibleFilterError prefixed with the
filter's name and never show a credential."""

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.edgemesh.cluster_mesh.plugins.filter.k3s_registries import (
    FilterModule,
    k3s_registries,
)


def test_the_filter_is_registered_under_its_file_name():
    assert FilterModule().filters() == {"k3s_registries": k3s_registries}


def test_mirrors_only_and_nothing():
    text = k3s_registries({"docker.io": ["https://mirror.example"]})
    assert yaml.safe_load(text) == {
        "mirrors": {"docker.io": {"endpoint": ["https://mirror.example"]}}
    }
    assert k3s_registries({}, {}) == ""


def test_errors_name_the_filter_and_hide_credentials():
    with pytest.raises(AnsibleFilterError, match="^k3s_registries: k3s_registry_configs r ") as err:
        k3s_registries({}, {"r": {"auth": {"password": "hunter2"}, "token": "t0ps3cret"}})
    assert "hunter2" not in str(err.value) and "t0ps3cret" not in str(err.value)
    with pytest.raises(AnsibleFilterError, match="^k3s_registries: cannot render"):
        k3s_registries({"docker.io": [object()]})
