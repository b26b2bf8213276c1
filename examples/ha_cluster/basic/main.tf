# paved_ha_cluster: a Kubernetes cluster across zones with the staging defaults.
#
# One resource makes the VPC (public, private and intra subnets per zone), a NAT
# gateway, the EKS control plane with its KMS key, log group and OIDC provider, the
# IAM roles and a system node pool. Every default shows in the plan.
# See examples/README.md to run this against moto, the local AWS emulator.

terraform {
  required_providers {
    paved = { source = "pavedroad/paved" }
  }
}

provider "paved" {}

resource "paved_ha_cluster" "main" {
  name    = "shop-staging"
  profile = "staging"
}

output "endpoint" {
  value = paved_ha_cluster.main.endpoint
}

output "zones" {
  value = paved_ha_cluster.main.zones
}

output "network" {
  value = paved_ha_cluster.main.network
}

output "ha_report" {
  value = paved_ha_cluster.main.ha_report
}
