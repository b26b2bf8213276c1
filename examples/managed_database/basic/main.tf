# paved_managed_database: PostgreSQL with the staging defaults in an existing network.
#
# The master password is created and kept by AWS Secrets Manager; Terraform only
# ever sees the secret's ARN. Storage is encrypted and TLS is enforced.
# See examples/README.md to run this against moto, the local AWS emulator.

terraform {
  required_providers {
    paved = { source = "pavedroad/paved" }
  }
}

provider "paved" {}

# The network: a paved cluster's VPC (any VPC with subnets in two zones will do).
resource "paved_ha_cluster" "net" {
  name    = "orders-net"
  profile = "development"
}

resource "paved_managed_database" "orders" {
  name    = "orders"
  profile = "staging"

  network = {
    vpc_id        = paved_ha_cluster.net.network.vpc_id
    subnet_ids    = values(paved_ha_cluster.net.network.private_subnet_ids)
    allowed_cidrs = ["10.0.0.0/16"]
  }
}

output "endpoint" {
  value = paved_managed_database.orders.endpoint
}

output "master_secret_arn" {
  value = paved_managed_database.orders.master_secret_arn
}
