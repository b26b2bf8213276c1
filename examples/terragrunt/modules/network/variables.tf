variable "name" {
  description = "The network's name (letters, digits, hyphens, underscores)."
  type        = string
}

variable "profile" {
  description = "production, staging or development: the zone count and NAT layout."
  type        = string
}

variable "cidr" {
  description = "The network's range, /16 to /20."
  type        = string
  default     = "10.0.0.0/16"
}

variable "tags" {
  description = "Tags on every component, besides the provider's default_tags."
  type        = map(string)
  default     = {}
}
