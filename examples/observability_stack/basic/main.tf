# A cluster and its observability stack: Prometheus (an HA pair in production) with
# Alertmanager and paved's alert rules, Grafana with paved's dashboards, Loki and
# Tempo with their buckets, Grafana Alloy on every node. The receiver's webhook URL
# lives in Secrets Manager: paved reads it at apply and writes it only into a
# Kubernetes Secret.
# See examples/README.md to run this against moto, the local AWS emulator.

terraform {
  required_providers {
    paved = { source = "pavedroad/paved" }
  }
}

provider "paved" {}

variable "oncall_webhook_secret_arn" {
  description = "A Secrets Manager secret holding the on-call webhook URL (null: no receiver)."
  type        = string
  default     = null
}

resource "paved_ha_cluster" "main" {
  name               = "shop"
  profile            = "staging"
  kubernetes_version = "1.31"
}

resource "paved_observability_stack" "main" {
  name    = "shop-obs"
  cluster = paved_ha_cluster.main.connection
  profile = "staging"

  metrics = {
    retention_days = 15
    external_labels = {
      environment = "staging"
    }
  }

  alerting = {
    receivers = var.oncall_webhook_secret_arn == null ? {} : {
      oncall = {
        type   = "webhook"
        secret = var.oncall_webhook_secret_arn
      }
    }
    routes = var.oncall_webhook_secret_arn == null ? [] : [
      { receiver = "oncall", matchers = ["severity=\"critical\""] },
    ]
  }
}

# Whole objects, so Terraform 1.0 plans this too (it cannot reference into nested
# attributes): endpoints.grafana, endpoints.otlp_grpc...
output "endpoints" {
  value = paved_observability_stack.main.endpoints
}
