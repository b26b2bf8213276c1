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

# The network (any VPC with subnets in two zones will do).
resource "paved_network" "net" {
  name    = "orders-net"
  profile = "development"
}

resource "paved_managed_database" "orders" {
  name    = "orders"
  profile = "staging"

  network = {
    vpc_id        = paved_network.net.vpc_id
    subnet_ids    = paved_network.net.subnet_ids["intra"]
    allowed_cidrs = [paved_network.net.cidr]
  }
}

output "endpoint" {
  value = paved_managed_database.orders.endpoint
}

output "master_secret_arn" {
  value = paved_managed_database.orders.master_secret_arn
}
