# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kubeadm role's containerd release files, rendered with Ansible's own Templar from the
role's defaults and vars: names, URLs (the layout of the upstream GitHub releases, as
kubespray's roles/kubespray_defaults/defaults/main/download.yml builds them), the pinned sum
per architecture, and an empty sum (refused by preflight) when none is pinned."""

import pathlib

import pytest
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

ROLE = pathlib.Path(__file__).resolve().parents[3] / "roles" / "kubeadm"
LOADER = DataLoader()


def _files(arch="x86_64", **overrides):
    variables = {}
    for part in ("defaults", "vars"):
        variables.update(
            LOADER.load_from_file(str(ROLE / part / "main.yml"), trusted_as_template=True)
        )
    variables.update({"ansible_facts": {"architecture": arch, "os_family": "Debian"}})
    variables.update(overrides)
    templar = Templar(loader=LOADER, variables=variables)
    return templar.template(variables["_kubeadm_containerd_files"])


def test_default_release_files_on_amd64():
    files = _files(kubeadm_install_packages=False)
    assert [f["name"] for f in files] == [
        "containerd-2.3.4-linux-amd64.tar.gz",
        "runc.amd64",
        "cni-plugins-linux-amd64-v1.9.1.tgz",
    ]
    assert [f["url"] for f in files] == [
        "https://github.com/containerd/containerd/releases/download/v2.3.4/"
        "containerd-2.3.4-linux-amd64.tar.gz",
        "https://github.com/opencontainers/runc/releases/download/v1.4.3/runc.amd64",
        "https://github.com/containernetworking/plugins/releases/download/v1.9.1/"
        "cni-plugins-linux-amd64-v1.9.1.tgz",
    ]
    assert files[0]["checksum"] == (
        "sha256:9d68969855fbf676cdb8ed758e420fb048d61f984f61de3e53eddfebe484d168"
    )


def test_arm64_takes_the_arm64_sums():
    files = _files("aarch64", kubeadm_install_packages=False)
    assert files[0]["name"] == "containerd-2.3.4-linux-arm64.tar.gz"
    assert files[1]["checksum"] == (
        "sha256:633301e2e32f8a5ad54031aab4901eb00308bec677dd15faa2751e8f9dab5ca4"
    )


def test_cni_plugins_only_when_the_kubelet_package_does_not_bring_them():
    assert len(_files()) == 2  # kubeadm_install_packages: true -> kubernetes-cni
    assert len(_files(kubeadm_install_packages=False)) == 3


@pytest.mark.parametrize(
    "arch,overrides",
    [
        ("x86_64", {"kubeadm_containerd_version": "2.2.7"}),
        ("riscv64", {}),
    ],
)
def test_no_pinned_sum_gives_an_empty_checksum(arch, overrides):
    files = _files(arch, **overrides)
    assert files[0]["checksum"] == ""
    assert files[0]["pinned"] == "kubeadm_containerd_checksums"
