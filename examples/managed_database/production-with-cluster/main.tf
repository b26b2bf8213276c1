# The production pair: a cluster and a Multi-AZ PostgreSQL with one read replica in
# another zone, 14-day backups, deletion protection and a final snapshot on delete,
# admitting only the cluster's private subnets.
# See examples/README.md to run this against moto, the local AWS emulator.
# deletion_protection is on: to destroy, set it to false on both and apply first.

terraform {
  required_providers {
    paved = { source = "pavedroad/paved" }
  }
}

provider "paved" {}

resource "paved_ha_cluster" "main" {
  name    = "shop"
  profile = "production"
}

resource "paved_managed_database" "orders" {
  name    = "orders"
  profile = "production"

  network = {
    vpc_id        = paved_ha_cluster.main.network.vpc_id
    subnet_ids    = values(paved_ha_cluster.main.network.private_subnet_ids)
    allowed_cidrs = [paved_ha_cluster.main.network.cidr]
  }

  parameters = {
    log_min_duration_statement = "500"
  }
}

output "writer" {
  value = paved_managed_database.orders.endpoint
}

output "readers" {
  value = paved_managed_database.orders.reader_endpoints
}

output "ha_report" {
  value = paved_managed_database.orders.ha_report
}
