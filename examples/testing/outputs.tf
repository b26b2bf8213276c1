output "profile" {
  description = "The paved profile the environment chose."
  value       = local.profile
}

output "vpc_id" {
  value = paved_network.main.vpc_id
}

output "database_endpoint" {
  value = paved_managed_database.main.endpoint
}

output "database_subnet_ids" {
  value = paved_managed_database.main.network.subnet_ids
}
