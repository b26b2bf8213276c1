output "vpc_id" {
  description = "The network's id."
  value       = paved_network.main.vpc_id
}

output "subnet_ids" {
  description = "Subnet ids by tier (private, intra, public), each list in zone order."
  value       = paved_network.main.subnet_ids
}

output "subnet_cidrs" {
  description = "Subnet ranges by tier, known at plan."
  value       = paved_network.main.subnet_cidrs
}

output "cidr" {
  description = "The network's range, for the database's allowed_cidrs."
  value       = paved_network.main.cidr
}
