# paved_ha_cluster in a network you already have: paved creates only the cluster,
# its roles, key, logs and node pools, and tags your subnets for load balancers.
# The VPC here is made by a paved_ha_cluster of its own, so the example runs anywhere;
# in real use, pass your own VPC and subnet ids.
# See examples/README.md to run this against moto, the local AWS emulator.

terraform {
  required_providers {
    paved = { source = "pavedroad/paved" }
  }
}

provider "paved" {}

# Stands in for a network built elsewhere.
resource "paved_ha_cluster" "network_owner" {
  name    = "net-owner"
  profile = "development"
}

resource "paved_ha_cluster" "apps" {
  name    = "apps"
  profile = "development"

  network = {
    existing_vpc_id = paved_ha_cluster.network_owner.network.vpc_id
    existing_subnet_ids = {
      private = values(paved_ha_cluster.network_owner.network.private_subnet_ids)
      public  = values(paved_ha_cluster.network_owner.network.public_subnet_ids)
    }
  }
}

output "apps_vpc_id" {
  value = paved_ha_cluster.apps.network.vpc_id
}
