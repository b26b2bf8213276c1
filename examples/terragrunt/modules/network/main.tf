# The network unit: the VPC the cluster and the database share. Both units take its
# ids (vpc_id, subnet_ids, cidr) from this unit's outputs, so Terragrunt applies them
# side by side once the network exists.

terraform {
  required_version = ">= 1.10"

  required_providers {
    paved = { source = "pavedroad/paved" }
  }
}

resource "paved_network" "main" {
  name    = var.name
  profile = var.profile
  cidr    = var.cidr
  tags    = var.tags
}
