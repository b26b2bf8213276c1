include "root" {
  path = find_in_parent_folders("root.hcl")
}

terraform {
  source = "../../modules/observability"
}

# The cluster's connection, whole.
dependency "cluster" {
  config_path = "../cluster"

  mock_outputs = {
    connection = {
      platform              = "eks"
      name                  = "shop-prod"
      endpoint              = "https://mock.eks.amazonaws.com"
      certificate_authority = "bW9jaw=="
      location              = "eu-west-1"
      account               = "123456789012"
      oidc_issuer_url       = "https://oidc.eks.eu-west-1.amazonaws.com/id/MOCK"
      kubernetes_version    = "1.31"
    }
  }
  mock_outputs_allowed_terraform_commands = ["validate", "plan"]
}

inputs = {
  name    = "shop-prod-obs"
  cluster = dependency.cluster.outputs.connection
  external_labels = {
    environment = "prod"
  }
}
