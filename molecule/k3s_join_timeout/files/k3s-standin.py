# (prepare.yml writes it with a "#!/usr/bin/python3" line first.)
# STAND-IN for the k3s binary, used only by the Molecule scenario molecule/k3s_join_timeout.
# The real k3s cannot be downloaded on the test machines. The role installs this script
# where k3s goes (air-gap mode, verified against a checksum file made for it). It models
# the one behaviour the scenario tests, the way a k3s agent joins:
#   * `--version` prints the version the scenario pins;
#   * `agent` reads `server:` from /etc/rancher/k3s/config.yaml and tries a TCP connection
#     to it every 2 s, logging each failure to stderr (the unit's journal) as k3s logs its
#     "server is not ready" retries; only once connected does it send READY=1 to systemd
#     (Type=notify), then it stays up. An unreachable server therefore keeps the unit
#     "activating" for ever, as with the real k3s.
# It starts no Kubernetes component.
import os
import re
import signal
import socket
import sys
import time
import urllib.parse

VERSION = "v1.35.6+k3s1"
CONFIG = "/etc/rancher/k3s/config.yaml"


def server_url():
    with open(CONFIG, encoding="utf-8") as handle:
        match = re.search(r'^server:\s*"?([^"\s]+)"?\s*$', handle.read(), re.MULTILINE)
    return match.group(1) if match else ""


def notify_ready():
    address = os.environ.get("NOTIFY_SOCKET", "")
    if address.startswith("@"):
        address = "\0" + address[1:]
    if address:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.connect(address)
            sock.sendall(b"READY=1")


def wait_for_server(url):
    parsed = urllib.parse.urlsplit(url)
    while True:
        try:
            with socket.create_connection((parsed.hostname, parsed.port or 6443), timeout=2):
                print("stand-in k3s agent: connected to %s" % url, file=sys.stderr, flush=True)
                return
        except OSError as exc:
            print(
                "stand-in k3s agent: waiting for server %s: %s" % (url, exc),
                file=sys.stderr,
                flush=True,
            )
            time.sleep(2)


def main(argv):
    command = argv[1] if len(argv) > 1 else ""
    if command in ("--version", "-v", "version"):
        print("k3s version %s (stand-in)" % VERSION)
        print("go version go1.24 (stand-in)")
        return 0
    if command != "agent":
        return 0
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    wait_for_server(server_url())
    notify_ready()
    while True:
        signal.pause()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
