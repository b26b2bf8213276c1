# The observability unit: metrics, alerts, dashboards, logs and traces for the
# cluster unit's cluster, which it takes whole (its `connection` output).

terraform {
  required_version = ">= 1.10"

  required_providers {
    paved = { source = "pavedroad/paved" }
  }
}

resource "paved_observability_stack" "main" {
  name    = var.name
  cluster = var.cluster
  profile = var.profile
  tags    = var.tags

  metrics = {
    retention_days  = var.metrics_retention_days
    external_labels = var.external_labels
  }
}
