# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: k3s_token_secret
short_description: The join secret held in a running k3s server's token file
version_added: 0.1.0
author:
  - edgemesh maintainers (@edgemesh)
description:
  - Reads the text of C(/var/lib/rancher/k3s/server/token) (O(kind=server)) or
    C(/var/lib/rancher/k3s/server/agent-token) (O(kind=agent)) of a running server and
    returns the secret the C(edgemesh.cluster_mesh.k3s) role keeps on the control node, so a
    lost C(<output_dir>/<cluster>/k3s-token) is recovered instead of replaced.
  - A secure-format token C(K10<CA hash>::<user>:<password>) gives its password when the user
    matches the kind (C(server), or C(node) for the agent token); a short token is returned
    as it is. An agent token that is really the server token (k3s links C(agent-token) to
    C(token) when no agent token was set) gives an empty string, so agents get their own.
  - The logic is C(plugins/module_utils/k3s_files.py) C(token_secret).
options:
  _input:
    description: The token file's text.
    type: str
    required: true
  kind:
    description: Which token the text is.
    type: str
    choices: [server, agent]
    required: true
"""

EXAMPLES = r"""
- name: Keep the recovered server token
  ansible.builtin.copy:
    content: "{{ __slurped.content | b64decode | edgemesh.cluster_mesh.k3s_token_secret('server') }}\n"
    dest: build/eu-core/k3s-token
    mode: "0600"
  no_log: true
"""

RETURN = r"""
_value:
  description: The secret, or an empty string when the text holds nothing to keep.
  type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import k3s_files


def k3s_token_secret(text, kind):
    if not isinstance(text, str):
        raise AnsibleFilterError(
            "k3s_token_secret: the input must be the token file's text, got %s"
            % type(text).__name__
        )
    try:
        return k3s_files.token_secret(str(kind), str(text))
    except k3s_files.K3sFileError as exc:
        raise AnsibleFilterError("k3s_token_secret: %s" % exc)


class FilterModule(object):
    def filters(self):
        return {"k3s_token_secret": k3s_token_secret}
