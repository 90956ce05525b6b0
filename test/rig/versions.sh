# Pinned versions of every rig component. Sourced by the provisioning
# scripts and parsed (KEY=value lines only) by components.ts, so keep the
# format simple: no quotes, no expansions.
KUBE_VERSION=v1.34.4
ETCD_VERSION=v3.6.16
HELM_VERSION=v3.22.0
MOTO_VERSION=5.2.5
