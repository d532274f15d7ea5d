#!/bin/sh
# STAND-IN for kubeadm — molecule/kubeadm test only, never part of the product.
# The real kubeadm cannot be installed on these test hosts (the upstream Kubernetes
# package repository is unreachable). This script records every call (time, arguments)
# in /var/log/kubeadm-stand-in.log and fakes only what the role reads back: the files
# `init`/`join` leave behind, the output of `token create --print-join-command` and of
# `init phase upload-certs`. The secrets it prints are fixed fakes that verify.yml
# searches for in the Ansible log.
set -eu
log=/var/log/kubeadm-stand-in.log
state=/var/lib/kubeadm-stand-in
mkdir -p "$state" /etc/kubernetes/pki
printf '%s %s\n' "$(date +%s.%N)" "$*" >>"$log"

FAKE_TOKEN=fake01.standintoken0001
FAKE_HASH=sha256:5ba1d0000000000000000000000000000000000000000000000000000000c0de
FAKE_CERT_KEY=ce27000000000000000000000000000000000000000000000000000000000b1e

config_arg() {
  for a in "$@"; do
    case $a in --config=*) echo "${a#--config=}" ;; esac
  done
}

fake_kubeconfig() {
  cat >"$1" <<KUBECONFIG
apiVersion: v1
kind: Config
clusters:
- name: kubernetes
  cluster:
    certificate-authority-data: c3RhbmQtaW4=
    server: https://127.0.0.1:6443
contexts:
- name: kubernetes-admin@kubernetes
  context:
    cluster: kubernetes
    user: kubernetes-admin
current-context: kubernetes-admin@kubernetes
users:
- name: kubernetes-admin
  user:
    client-certificate-data: c3RhbmQtaW4=
    client-key-data: c3RhbmQtaW4=
KUBECONFIG
  chmod 600 "$1"
}

case "$*" in
  "config validate --config "*)
    grep -q '^apiVersion: kubeadm.k8s.io/v1beta4$' "$4"
    ;;
  "init phase upload-certs"*)
    echo "[upload-certs] Storing the certificates in Secret \"kubeadm-certs\""
    echo "[upload-certs] Using certificate key:"
    echo "$FAKE_CERT_KEY"
    ;;
  "init "*)
    cp "$(config_arg "$@")" "$state/init-config.yaml"
    fake_kubeconfig /etc/kubernetes/admin.conf
    fake_kubeconfig /etc/kubernetes/kubelet.conf
    echo "stand-in CA" >/etc/kubernetes/pki/ca.crt
    echo "Your Kubernetes control-plane has initialized successfully! (stand-in)"
    echo "  kubeadm join x:6443 --token $FAKE_TOKEN --discovery-token-ca-cert-hash $FAKE_HASH --control-plane --certificate-key $FAKE_CERT_KEY"
    ;;
  "token create "*)
    echo "kubeadm join api.kubeadm-test.example:6443 --token $FAKE_TOKEN --discovery-token-ca-cert-hash $FAKE_HASH "
    ;;
  "join "*)
    # Keep the structure for verify.yml, with the secrets masked.
    sed -e "s/$FAKE_TOKEN/<token>/" -e "s/$FAKE_HASH/<ca-hash>/" -e "s/$FAKE_CERT_KEY/<certificate-key>/" \
      "$(config_arg "$@")" >"$state/join-config.yaml"
    fake_kubeconfig /etc/kubernetes/kubelet.conf
    ;;
  "upgrade apply "* | "upgrade node "*)
    conf=$(config_arg "$@")
    cp "$conf" "$state/upgrade-config.yaml"
    sed -n 's/^ *kubernetesVersion: "v\(.*\)"$/\1/p' "$conf" >"$state/version"
    ;;
  "reset "*)
    rm -rf /etc/kubernetes/admin.conf /etc/kubernetes/kubelet.conf /etc/kubernetes/pki /etc/kubernetes/manifests
    ;;
  *)
    echo "kubeadm stand-in: unexpected call: $*" >&2
    exit 3
    ;;
esac
