# The cluster unit: a paved_ha_cluster in the network unit's VPC. Its whole
# `connection` object is the observability unit's input.

terraform {
  required_version = ">= 1.10"

  required_providers {
    paved = { source = "pavedroad/paved" }
  }
}

resource "paved_ha_cluster" "main" {
  name               = var.name
  profile            = var.profile
  kubernetes_version = var.kubernetes_version
  cluster_admins     = var.cluster_admins
  tags               = var.tags

  network = {
    existing_vpc_id     = var.vpc_id
    existing_subnet_ids = var.subnet_ids
  }
}
