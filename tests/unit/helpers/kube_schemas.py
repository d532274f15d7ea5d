# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test helper: check a manifest against the official Kubernetes schemas, offline.

``kubernetes-validate`` (PyPI, pinned in constraints.txt) ships the JSON schemas of every
Kubernetes release up to 1.37, also in a strict form that refuses fields the API does not
know. ``core_problems(manifest, minor)`` validates in strict mode against exactly that minor
(the package falls back to an older schema for a minor it does not ship: that is refused
here) and returns the problems as "path: message" lines, empty when the manifest is valid.
"""

import kubernetes_validate


def core_problems(manifest, minor):
    try:
        validated = kubernetes_validate.validate(manifest, minor, strict=True)
    except kubernetes_validate.ValidationError as exc:
        path = ".".join(str(item) for item in exc.path) or "<root>"
        return ["%s: %s" % (path, exc.message)]
    if kubernetes_validate.utils.major_minor(validated) != minor:
        raise AssertionError(
            "kubernetes-validate has no schema for %s (it used %s)" % (minor, validated)
        )
    return []
