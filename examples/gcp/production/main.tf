# A production GKE cluster in London (europe-west2): a regional control plane over
# the region's three zones, private nodes, Cloud NAT with reserved addresses, secrets
# encrypted with a Cloud KMS key paved creates, and two node pools sized by GKE's
# autoscaler. Credentials come from application default credentials
# (`gcloud auth application-default login`) or GOOGLE_APPLICATION_CREDENTIALS.

terraform {
  required_providers {
    paved = { source = "pavedroad/paved" }
  }
}

provider "paved" {
  cloud = "gcp"
  gcp {
    project = "shop-prod"
    region  = "europe-west2"
  }
}

data "paved_zones" "london" {}

resource "paved_ha_cluster" "prod" {
  name                = "shop"
  profile             = "production"
  kubernetes_version  = "1.31"
  deletion_protection = true

  # Who may reach the control plane's DNS endpoint; an empty list allows no one.
  endpoint_public_cidrs = ["203.0.113.0/24"]

  node_pools = {
    system = {
      instance_types = ["e2-standard-4"]
      min_size       = 3
      max_size       = 9
    }
    batch = {
      capacity       = "spot"
      instance_types = ["n2-standard-8"]
      min_size       = 3
      max_size       = 30
      labels         = { workload = "batch" }
      taints         = [{ key = "spot", value = "true", effect = "NoSchedule" }]
    }
  }
}

output "zones" {
  value = data.paved_zones.london.names
}

output "endpoint" {
  value = paved_ha_cluster.prod.endpoint
}

output "inventory" {
  value = paved_ha_cluster.prod.inventory
}
