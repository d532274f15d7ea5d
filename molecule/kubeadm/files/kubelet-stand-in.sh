#!/bin/sh
# STAND-IN for the kubelet — molecule/kubeadm test only, never part of the product.
# Answers --version (the version last "installed" by the kubeadm stand-in's upgrade),
# otherwise records its arguments and stays up like a service.
set -eu
state=/var/lib/kubeadm-stand-in
if [ "${1:-}" = --version ]; then
  echo "Kubernetes v$(cat "$state/version" 2>/dev/null || echo 1.36.1)"
  exit 0
fi
mkdir -p "$state"
printf '%s kubelet %s\n' "$(date +%s.%N)" "$*" >>/var/log/kubeadm-stand-in.log
exec sleep infinity
