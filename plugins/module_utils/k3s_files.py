# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The k3s-only parts of the bootstrap files, and the join-token recovery.

* ``token_secret(kind, text)`` - the secret to keep on the control node from the text of a
  running server's ``/var/lib/rancher/k3s/server/token`` (kind ``server``) or
  ``.../server/agent-token`` (kind ``agent``); "" when the file holds nothing reusable;
* ``node_labels`` / ``node_taints`` - the ``node-label`` / ``node-taint`` lists of
  config.yaml from the cluster's and the host's own knobs;
* ``etcd_config`` - the ``etcd-snapshot-*`` / ``etcd-s3*`` keys of a server (no secret);
* ``registries_yaml`` - ``/etc/rancher/k3s/registries.yaml`` (mirrors and registry configs).

Facts relied on (k3s source and docs, read for v1.35): a server writes its tokens in the
secure format ``K10<CA hash>::<user>:<password>`` - user ``server`` in ``server/token``,
``node`` in ``server/agent-token`` - and, without ``agent-token``, makes ``agent-token`` a
symlink to ``token`` (pkg/server/server.go, pkg/daemons/control/deps/deps.go readTokens);
the S3 keys can come from the environment (``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``,
docs.k3s.io/cli/etcd-snapshot); registries.yaml holds ``mirrors`` (``endpoint``,
``rewrite``) and ``configs`` (``auth``, ``tls``) (docs.k3s.io/installation/private-registry).
Pure Python, no Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import mesh_rules

TOKEN_USERS = {"server": "server", "agent": "node"}
# k3s etcd-s3 options the role writes into config.yaml (etcd-s3-<key>); the credentials go
# to the unit's environment file instead (S3_SECRET_KEYS), never into config.yaml.
S3_OPTIONS = (
    "endpoint",
    "endpoint-ca",
    "skip-ssl-verify",
    "bucket",
    "region",
    "folder",
    "insecure",
    "timeout",
    "proxy",
    "bucket-lookup-type",
    "retention",
)
S3_SECRET_KEYS = ("access-key", "secret-key")
REGISTRY_MIRROR_KEYS = ("endpoint", "rewrite")
REGISTRY_CONFIG_KEYS = ("auth", "tls")


class K3sFileError(ValueError):
    """A k3s knob cannot be rendered; the message names the knob, value and what is allowed."""


def token_secret(kind, text):
    """The password part of a k3s token file's text, for ``kind`` server or agent.

    "" when the text is empty or holds another kind's credentials (an ``agent-token`` that
    is the symlink to the server token: agents then get a token of their own)."""
    if kind not in TOKEN_USERS:
        raise K3sFileError("token kind %r is not known; allowed: server, agent" % (kind,))
    token = (text or "").strip()
    if not token.startswith("K10") or "::" not in token:
        return token
    credentials = token.split("::", 1)[1]
    user, colon, password = credentials.partition(":")
    if not colon:
        return credentials
    return password if user == TOKEN_USERS[kind] else ""


def _merged_labels(cluster_labels, host_labels):
    labels = {}
    for knob, given in (
        ("k3s_cluster_node_labels", cluster_labels),
        ("k3s_node_labels", host_labels),
    ):
        if not isinstance(given, dict):
            raise K3sFileError("%s is %r; allowed: a mapping of label to value" % (knob, given))
        for key, value in given.items():
            value = "" if value is None else value
            value = str(value).lower() if isinstance(value, bool) else value
            value = str(value) if isinstance(value, int) else value
            problem = mesh_rules.node_label_problem(key, value)
            if problem:
                raise K3sFileError("%s: %s" % (knob, problem))
            labels[key] = value
    return labels


def node_labels(cluster_labels, host_labels):
    """``key=value`` items, sorted by key; the host's value wins over the cluster's."""
    merged = _merged_labels(cluster_labels, host_labels)
    return ["%s=%s" % (key, merged[key]) for key in sorted(merged)]


def node_taints(cluster_taints, host_taints):
    """The cluster's taints then the host's, each once; a host taint replaces a cluster
    taint of the same key and effect."""
    chosen = {}
    for knob, given in (
        ("k3s_cluster_node_taints", cluster_taints),
        ("k3s_node_taints", host_taints),
    ):
        if not isinstance(given, list):
            raise K3sFileError("%s is %r; allowed: a list of key[=value]:Effect" % (knob, given))
        for text in given:
            try:
                taint = mesh_rules.parse_taint(text)
            except mesh_rules.RuleError as exc:
                raise K3sFileError("%s: %s" % (knob, exc))
            chosen.pop((taint["key"], taint["effect"]), None)
            chosen[(taint["key"], taint["effect"])] = str(text)
    return list(chosen.values())


def _s3_lines(s3):
    if not isinstance(s3, dict):
        raise K3sFileError("k3s_etcd_s3 is %r; allowed: a mapping of etcd-s3 options" % (s3,))
    keys = dict((str(k).replace("_", "-"), v) for k, v in s3.items())
    secret = sorted(set(keys) & set(S3_SECRET_KEYS))
    if secret:
        raise K3sFileError(
            "k3s_etcd_s3 sets %s; allowed: the credentials in k3s_etcd_s3_access_key and "
            "k3s_etcd_s3_secret_key (kept out of config.yaml and its preview)" % ", ".join(secret)
        )
    unknown = sorted(set(keys) - set(S3_OPTIONS))
    if unknown:
        raise K3sFileError(
            "k3s_etcd_s3 sets %s; allowed: %s" % (", ".join(unknown), ", ".join(S3_OPTIONS))
        )
    if not keys:
        return []
    if "bucket" not in keys:
        raise K3sFileError("k3s_etcd_s3 has no bucket; allowed: a mapping with a bucket")
    lines = ["etcd-s3: true"]
    for key in sorted(keys):
        value = keys[key]
        if isinstance(value, (dict, list)) or value is None:
            raise K3sFileError("k3s_etcd_s3 %s is %r; allowed: a scalar" % (key, value))
        lines.append("etcd-s3-%s: %s" % (key, json.dumps(value)))
    return lines


def etcd_config(cron, retention, s3):
    """The etcd snapshot lines of a server's config.yaml."""
    if not isinstance(cron, str) or len(cron.split()) not in (5, 6):
        raise K3sFileError(
            "k3s_etcd_snapshot_schedule_cron is %r; allowed: a cron spec of 5 fields "
            "(e.g. '0 */12 * * *')" % (cron,)
        )
    if isinstance(retention, str) and retention.strip().isdigit():
        retention = int(retention)
    if isinstance(retention, bool) or not isinstance(retention, int) or retention < 1:
        raise K3sFileError(
            "k3s_etcd_snapshot_retention is %r; allowed: a number of snapshots >= 1" % (retention,)
        )
    lines = [
        "etcd-snapshot-schedule-cron: %s" % json.dumps(cron),
        "etcd-snapshot-retention: %d" % retention,
    ]
    return lines + _s3_lines(s3)


def _registry_section(knob, given, allowed, mirror):
    if not isinstance(given, dict):
        raise K3sFileError("%s is %r; allowed: a mapping keyed by registry" % (knob, given))
    section = {}
    for name in sorted(given):
        entry = given[name]
        if mirror and isinstance(entry, list):
            entry = {"endpoint": entry}
        if not isinstance(entry, dict) or not entry or set(entry) - set(allowed):
            # A registry config may hold credentials: name its keys, never its values.
            shown = (
                entry
                if mirror
                else sorted(entry) if isinstance(entry, dict) else type(entry).__name__
            )
            raise K3sFileError(
                "%s %s is %r; allowed: a mapping of %s%s"
                % (
                    knob,
                    name,
                    shown,
                    ", ".join(allowed),
                    " (or a list of endpoints)" if mirror else "",
                )
            )
        endpoints = entry.get("endpoint", [])
        if mirror and (
            not isinstance(endpoints, list) or not all(isinstance(e, str) and e for e in endpoints)
        ):
            raise K3sFileError(
                "%s %s endpoint is %r; allowed: a list of URLs" % (knob, name, endpoints)
            )
        section[str(name)] = entry
    return section


def registries_yaml(mirrors, configs, header):
    """The text of registries.yaml ("" when there are neither mirrors nor configs)."""
    data = {}
    mirrors = _registry_section("k3s_registry_mirrors", mirrors, REGISTRY_MIRROR_KEYS, True)
    configs = _registry_section("k3s_registry_configs", configs, REGISTRY_CONFIG_KEYS, False)
    if mirrors:
        data["mirrors"] = mirrors
    if configs:
        data["configs"] = configs
    if not data:
        return ""
    # JSON is YAML; sorted keys and a fixed indentation keep the file byte-stable.
    return header + json.dumps(data, indent=2, sort_keys=True) + "\n"
