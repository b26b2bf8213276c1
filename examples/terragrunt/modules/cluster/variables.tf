variable "name" {
  description = "The cluster's name."
  type        = string
}

variable "profile" {
  description = "production, staging or development."
  type        = string
}

variable "kubernetes_version" {
  description = "The Kubernetes minor version, such as \"1.31\"."
  type        = string
}

variable "vpc_id" {
  description = "The network unit's vpc_id."
  type        = string
}

variable "subnet_ids" {
  description = "The network unit's subnet_ids: ids by tier (private, intra, public)."
  type        = map(list(string))
}

variable "cluster_admins" {
  description = "IAM role or user ARNs given cluster-admin access."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags on every component, besides the provider's default_tags."
  type        = map(string)
  default     = {}
}
