variable "name" {
  description = "The database's instance identifier (lowercase letters, digits, hyphens)."
  type        = string
}

variable "profile" {
  description = "production, staging or development: Multi-AZ, replicas, backups, protection."
  type        = string
}

variable "engine_version" {
  description = "The PostgreSQL major version (null: the profile's)."
  type        = string
  default     = null
}

variable "vpc_id" {
  description = "The network unit's vpc_id."
  type        = string
}

variable "subnet_ids" {
  description = "The network unit's intra subnets: subnet_ids[\"intra\"]."
  type        = list(string)
}

variable "allowed_cidrs" {
  description = "Ranges admitted to the database port: the network unit's cidr."
  type        = list(string)
}

variable "tags" {
  description = "Tags on every component, besides the provider's default_tags."
  type        = map(string)
  default     = {}
}
