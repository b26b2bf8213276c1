# The database unit: a paved_managed_database in the network unit's intra subnets (no
# internet route), admitting only the network's range. It takes the network's ids,
# not the cluster's, so it does not wait for the cluster.

terraform {
  required_version = ">= 1.10"

  required_providers {
    paved = { source = "pavedroad/paved" }
  }
}

resource "paved_managed_database" "main" {
  name           = var.name
  profile        = var.profile
  engine_version = var.engine_version
  tags           = var.tags

  network = {
    vpc_id        = var.vpc_id
    subnet_ids    = var.subnet_ids
    allowed_cidrs = var.allowed_cidrs
  }
}
