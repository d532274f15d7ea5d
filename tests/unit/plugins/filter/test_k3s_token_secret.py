# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The k3s_token_secret filter: a thin call into k3s_files.token_secret; errors are
AnsibleFilterError prefixed with the filter's name (token format: k3s pkg/server/server.go)."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.edgemesh.cluster_mesh.plugins.filter.k3s_token_secret import (
    FilterModule,
    k3s_token_secret,
)


def test_the_filter_is_registered_under_its_file_name():
    assert FilterModule().filters() == {"k3s_token_secret": k3s_token_secret}


def test_a_secure_server_token_gives_its_password():
    assert k3s_token_secret("K10" + "0" * 64 + "::server:abc\n", "server") == "abc"


@pytest.mark.parametrize(
    "text, kind, message",
    [
        (None, "server", "k3s_token_secret: the input must be the token file's text, got NoneType"),
        ("abc", "bootstrap", "k3s_token_secret: token kind 'bootstrap' is not known; allowed"),
    ],
)
def test_errors_name_the_filter(text, kind, message):
    with pytest.raises(AnsibleFilterError, match=message):
        k3s_token_secret(text, kind)
