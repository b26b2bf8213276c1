output "endpoint" {
  description = "The writer's DNS name."
  value       = paved_managed_database.main.endpoint
}

output "port" {
  description = "The database port."
  value       = paved_managed_database.main.port
}

output "reader_endpoints" {
  description = "The read replicas' DNS names."
  value       = paved_managed_database.main.reader_endpoints
}

output "master_secret_arn" {
  description = "The Secrets Manager secret holding the master password."
  value       = paved_managed_database.main.master_secret_arn
}
