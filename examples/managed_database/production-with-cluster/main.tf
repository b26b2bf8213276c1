# The production stack: a network, a cluster and a Multi-AZ PostgreSQL with one read
# replica in another zone (14-day backups, deletion protection and a final snapshot on
# delete, admitting only the network's range) both in it, and the cluster's
# observability stack. The cluster and the database take the network's ids, so
# Terraform creates them side by side once the network exists.
# See examples/README.md to run this against moto, the local AWS emulator.
# deletion_protection is on: to destroy, set it to false on all three and apply first.

terraform {
  required_providers {
    paved = { source = "pavedroad/paved" }
  }
}

provider "paved" {}

variable "kubernetes_api_url" {
  description = "A tunnel or port-forward to the cluster's private API endpoint (null: the endpoint itself)."
  type        = string
  default     = null
}

variable "kubernetes_api_ca" {
  description = "The CA of the server at kubernetes_api_url, when it is not the cluster's."
  type        = string
  default     = null
}

resource "paved_network" "main" {
  name    = "shop"
  profile = "production"
}

resource "paved_ha_cluster" "main" {
  name               = "shop"
  profile            = "production"
  kubernetes_version = "1.31"

  network = {
    existing_vpc_id     = paved_network.main.vpc_id
    existing_subnet_ids = paved_network.main.subnet_ids
  }

  # The API endpoint is private: reach it through a tunnel when Terraform runs
  # outside the network (or set delivery = "gitops").
  kubernetes_api = var.kubernetes_api_url == null ? null : {
    url            = var.kubernetes_api_url
    ca_certificate = var.kubernetes_api_ca
  }

  teams = {
    project1-dev = {
      namespaces = ["project1-dev"]
      roles      = ["arn:aws:iam::123456789012:role/project1-developers"]
    }
  }
  platform_admins = ["arn:aws:iam::123456789012:role/sysadmin"]
}

resource "paved_managed_database" "orders" {
  name    = "orders"
  profile = "production"

  network = {
    vpc_id        = paved_network.main.vpc_id
    subnet_ids    = paved_network.main.subnet_ids["intra"]
    allowed_cidrs = [paved_network.main.cidr]
  }

  parameters = {
    log_min_duration_statement = "500"
  }
}

# Metrics, alerts, dashboards, logs and traces for the cluster, reached the same way.
resource "paved_observability_stack" "main" {
  name    = "shop-obs"
  cluster = paved_ha_cluster.main.connection
  profile = "production"

  kubernetes_api = var.kubernetes_api_url == null ? null : {
    url            = var.kubernetes_api_url
    ca_certificate = var.kubernetes_api_ca
  }
}

output "endpoints" {
  value = paved_observability_stack.main.endpoints
}

output "kubernetes_objects" {
  value = paved_ha_cluster.main.kubernetes_objects
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
