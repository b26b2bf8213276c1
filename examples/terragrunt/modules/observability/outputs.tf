output "endpoints" {
  description = "The stack's URLs inside the cluster (grafana, otlp_grpc, ...)."
  value       = paved_observability_stack.main.endpoints
}

output "grafana_admin_secret" {
  description = "The Kubernetes Secret holding Grafana's admin user and password."
  value       = paved_observability_stack.main.grafana_admin_secret
}
