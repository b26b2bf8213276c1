# paved_ha_cluster in a network you already have: paved creates only the cluster,
# its roles, key, logs and node pools, and tags your subnets for load balancers.
# The VPC here is made by a paved_network, so the example runs anywhere; in real use,
# pass your own VPC and subnet ids.
# (Only top-level attributes and whole objects are referenced, so Terraform 1.0 plans
# it too.)
# See examples/README.md to run this against moto, the local AWS emulator.

terraform {
  required_providers {
    paved = { source = "pavedroad/paved" }
  }
}

provider "paved" {}

# Stands in for a network built elsewhere.
resource "paved_network" "shared" {
  name    = "net-owner"
  profile = "development"
}

resource "paved_ha_cluster" "apps" {
  name    = "apps"
  profile = "development"

  network = {
    existing_vpc_id = paved_network.shared.vpc_id
    existing_subnet_ids = {
      private = paved_network.shared.subnet_ids["private"]
      public  = paved_network.shared.subnet_ids["public"]
    }
  }
}

output "apps_network" {
  value = paved_ha_cluster.apps.network
}
