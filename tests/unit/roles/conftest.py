# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ansible's collection finder for the role tests, as ansible-playbook (and ansible-test's
pytest plugin) installs it, so that ``edgemesh.cluster_mesh.*`` filters and tests resolve
in Templar. The collection's packages were imported plainly when the test modules were
collected: they are reloaded under the finder (as ansible-playbook does for late paths)
and back without it afterwards; modules already imported stay the same objects."""

import pathlib
import sys

import pytest
from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder

ROOT = pathlib.Path(__file__).resolve().parents[3]


def _reload_packages(finder):
    packages = [
        name
        for name, module in list(sys.modules.items())
        if name.split(".")[0] == "ansible_collections"
        and hasattr(module, "__path__")
        and not name.startswith("ansible_collections.ansible")
    ]
    for name in sorted(packages, key=lambda n: n.count(".")):
        finder._reload_hack(name)


@pytest.fixture(scope="module", autouse=True)
def collection_finder():
    finder = _AnsibleCollectionFinder(paths=[str(ROOT / ".collections")])
    finder._install()
    _reload_packages(finder)
    yield finder
    _AnsibleCollectionFinder._remove()
    _reload_packages(finder)
