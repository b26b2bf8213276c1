variable "name" {
  description = "The stack's name: the network's, and the database's with -db."
  type        = string
  default     = "shop"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,46}$", var.name))
    error_message = "name: lowercase letters, digits and hyphens, starting with a letter, at most 47 characters."
  }
}

variable "environment" {
  description = "prod, staging or development: prod gets the production profile."
  type        = string
  default     = "staging"

  validation {
    condition     = contains(["prod", "staging", "development"], var.environment)
    error_message = "environment must be prod, staging or development."
  }
}

variable "cidr" {
  description = "The network's range."
  type        = string
  default     = "10.0.0.0/16"
}
