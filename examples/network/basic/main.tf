# A production network shared by a cluster and a database: both take its ids, so
# Terraform creates them side by side once the network exists (the database does not
# wait for the whole cluster). Changing nat_mode is an in-place update; cidr, zones
# and zone_count replace the network.

terraform {
  required_providers {
    paved = { source = "pavedroad/paved" }
  }
}

provider "paved" {}

resource "paved_network" "main" {
  name    = "payments"
  profile = "production" # 3 zones, a NAT gateway per zone, deletion protection
  cidr    = "10.0.0.0/16"
}

resource "paved_ha_cluster" "main" {
  name               = "payments"
  profile            = "production"
  kubernetes_version = "1.31"
  delivery           = "gitops"
  gitops_path        = "gitops"

  network = {
    existing_vpc_id     = paved_network.main.vpc_id
    existing_subnet_ids = paved_network.main.subnet_ids
  }
}

resource "paved_managed_database" "ledger" {
  name    = "ledger"
  profile = "production"

  network = {
    vpc_id        = paved_network.main.vpc_id
    subnet_ids    = paved_network.main.subnet_ids["intra"] # no internet route
    allowed_cidrs = [paved_network.main.cidr]
  }
}

output "subnet_cidrs" {
  value = paved_network.main.subnet_cidrs
}
