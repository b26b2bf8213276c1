variable "name" {
  description = "The stack's name: lower-case letters, digits and -, at most 24 characters."
  type        = string
}

variable "profile" {
  description = "production, staging or development."
  type        = string
}

variable "cluster" {
  description = "The cluster unit's `connection` output, whole."
  type = object({
    platform              = string
    name                  = string
    endpoint              = string
    certificate_authority = string
    location              = string
    account               = string
    oidc_issuer_url       = string
    kubernetes_version    = string
  })
}

variable "metrics_retention_days" {
  description = "How long Prometheus keeps samples (null: the profile's)."
  type        = number
  default     = null
}

variable "external_labels" {
  description = "Labels added to every series and alert."
  type        = map(string)
  default     = {}
}

variable "tags" {
  description = "Tags on every cloud component, besides the provider's default_tags."
  type        = map(string)
  default     = {}
}
