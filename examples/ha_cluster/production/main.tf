# paved_ha_cluster with the production profile: three zones, a NAT gateway per zone,
# all control-plane logs for 90 days, deletion protection, and two node pools (the
# on-demand system pool and a spot pool with diversified instance types).
# See examples/README.md to run this against moto, the local AWS emulator.
# deletion_protection is on: to destroy, set it to false and apply first.

terraform {
  required_providers {
    paved = { source = "pavedroad/paved" }
  }
}

provider "paved" {
  default_tags = {
    team = "platform"
  }
}

resource "paved_ha_cluster" "prod" {
  name               = "shop"
  profile            = "production"
  kubernetes_version = "1.31"

  network = {
    cidr = "10.20.0.0/16"
  }

  endpoint_public_cidrs = ["203.0.113.0/24"]

  node_pools = {
    system = {
      min_size = 3
      max_size = 9
    }
    spot = {
      capacity       = "spot"
      instance_types = ["m6i.large", "m5.large", "m5a.large"]
      min_size       = 3
      max_size       = 30
      labels         = { workload = "batch" }
      taints         = [{ key = "spot", value = "true", effect = "NoSchedule" }]
    }
  }

  tags = {
    environment = "production"
  }
}

output "cluster_id" {
  value = paved_ha_cluster.prod.id
}

output "network" {
  value = paved_ha_cluster.prod.network
}

output "node_pool_status" {
  value = paved_ha_cluster.prod.node_pool_status
}

output "ha_report" {
  value = paved_ha_cluster.prod.ha_report
}
