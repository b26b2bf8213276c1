output "connection" {
  description = "How to reach the cluster, whole: the observability unit's `cluster` input."
  value       = paved_ha_cluster.main.connection
}

output "endpoint" {
  description = "The Kubernetes API endpoint URL."
  value       = paved_ha_cluster.main.endpoint
}

output "oidc_issuer_url" {
  description = "The service-account OIDC issuer, for workload identity."
  value       = paved_ha_cluster.main.oidc_issuer_url
}
