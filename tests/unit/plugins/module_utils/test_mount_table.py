# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""mount_table: which mounts lie under Cilium's directories, and in which order they go.

The lines follow the mountinfo format of the kernel's Documentation/filesystems/proc.rst;
the Cilium mounts are the ones its chart 1.19.6 makes on a host: the mount-cgroup init
container mounts cgroup2 at cgroup.hostRoot (/run/cilium/cgroupv2) in the host's mount
namespace, and the agent mounts bpffs at /run/cilium/bpffs (BPFFSRootFallback in
cilium/cilium pkg/defaults) when /sys/fs/bpf is not a bpffs.
"""

import pytest

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.mount_table import (
    MountTableError,
    mounts_under,
    normalise_root,
    parse_mountinfo,
    unescape,
)

NODE = """\
22 27 0:21 / /proc rw,relatime - proc proc rw
27 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw
31 27 0:25 / /run rw,nosuid,nodev shared:5 - tmpfs tmpfs rw,size=1612k,mode=755
40 31 0:30 / /sys/fs/bpf rw,nosuid,nodev,noexec,relatime shared:9 - bpf bpf rw,mode=700
61 31 0:38 / /run/cilium/cgroupv2 rw,relatime shared:30 - cgroup2 none rw
62 31 0:39 / /run/cilium/bpffs rw,relatime shared:31 - bpf bpf rw
70 31 0:45 / /run/ciliumx rw,relatime - tmpfs tmpfs rw
71 31 0:46 / /run/k3s/containerd/io.containerd.grpc.v1.cri/sandboxes/abc/shm rw - tmpfs shm rw
"""


def test_selects_cilium_mounts_deepest_first_and_keeps_the_rest():
    assert mounts_under(NODE, ["/run/cilium"]) == ["/run/cilium/bpffs", "/run/cilium/cgroupv2"]


def test_a_sibling_with_the_same_prefix_is_not_under_the_root():
    assert "/run/ciliumx" not in mounts_under(NODE, ["/run/cilium"])


def test_the_root_itself_is_selected_after_what_is_below_it():
    text = NODE + "80 31 0:50 / /run/cilium rw - tmpfs tmpfs rw\n"
    assert mounts_under(text, ["/run/cilium/"]) == [
        "/run/cilium/bpffs",
        "/run/cilium/cgroupv2",
        "/run/cilium",
    ]


def test_deeper_mounts_go_first_even_when_mounted_earlier():
    text = (
        "90 31 0:60 / /run/cilium/a/b/c rw - tmpfs t rw\n"
        "91 31 0:61 / /run/cilium/a rw - tmpfs t rw\n"
        "92 91 0:62 / /run/cilium/a/b rw - tmpfs t rw\n"
    )
    assert mounts_under(text, ["/run/cilium"]) == [
        "/run/cilium/a/b/c",
        "/run/cilium/a/b",
        "/run/cilium/a",
    ]


def test_stacked_mounts_are_listed_once_per_mount_top_first():
    # Equally deep mounts go in reverse mount order: the stacked one (mounted last) first.
    text = NODE + "63 61 0:40 / /run/cilium/cgroupv2 rw - cgroup2 none rw\n"
    assert mounts_under(text, ["/run/cilium"]) == [
        "/run/cilium/cgroupv2",
        "/run/cilium/bpffs",
        "/run/cilium/cgroupv2",
    ]


def test_several_roots_and_escaped_paths():
    text = NODE + "64 40 0:41 / /sys/fs/bpf/cilium/my\\040dir rw - tmpfs t rw\n"
    assert mounts_under(text, ["/sys/fs/bpf/cilium", "/sys/fs/bpf/tc/globals", "/run/cilium"]) == [
        "/sys/fs/bpf/cilium/my dir",
        "/run/cilium/bpffs",
        "/run/cilium/cgroupv2",
    ]


def test_nothing_under_the_roots_gives_an_empty_list():
    assert mounts_under(NODE, ["/var/run/cilium", "/sys/fs/bpf/cilium"]) == []
    assert mounts_under("", ["/run/cilium"]) == []


def test_unescape_decodes_the_kernels_octal_escapes():
    assert unescape("/a\\040b\\011c\\012d\\134e") == "/a b\tc\nd\\e"


def test_parse_keeps_ids_mount_point_and_type_with_optional_fields():
    entries = parse_mountinfo(NODE)
    assert entries[4].mount_id == 61 and entries[4].parent_id == 31
    assert entries[4].mount_point == "/run/cilium/cgroupv2"
    assert entries[4].fstype == "cgroup2"
    assert [entry.fstype for entry in entries[:2]] == ["proc", "ext4"]


@pytest.mark.parametrize(
    "line, message",
    [
        ("not a mount line", "mountinfo line 2 is not a mount entry: 'not a mount line'"),
        ("a b 0:1 / /x rw - tmpfs t rw", "mountinfo line 2 is not a mount entry"),
        ("61 31 0:38 / /x rw shared:1 opt opt opt", "mountinfo line 2 is not a mount entry"),
        ("61 31 0:38 / /x rw a b c -", "mountinfo line 2 has no filesystem type"),
    ],
)
def test_malformed_lines_are_named(line, message):
    with pytest.raises(MountTableError, match="^" + message.replace("(", r"\(")):
        mounts_under("22 27 0:21 / /proc rw,relatime - proc proc rw\n" + line + "\n", ["/run"])


@pytest.mark.parametrize(
    "root, message",
    [
        ("/", "root '/' would select every mount of the host"),
        ("//", "root '//' would select every mount of the host"),
        ("/run/..", "root '/run/..' would select every mount of the host"),
        ("run/cilium", "root 'run/cilium' is not an absolute path"),
        ("", "root '' is not an absolute path"),
        (None, "root None is not an absolute path"),
    ],
)
def test_bad_roots_are_refused(root, message):
    with pytest.raises(MountTableError, match="^" + message + "$"):
        mounts_under(NODE, [root])


def test_normalise_root_strips_trailing_and_doubled_slashes():
    assert normalise_root("//run//cilium/") == "/run/cilium"
