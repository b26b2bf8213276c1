include "root" {
  path = find_in_parent_folders("root.hcl")
}

terraform {
  source = "../../modules/database"
}

# The database takes the network's ids, not the cluster's: it is applied beside the
# cluster once the network exists.
dependency "network" {
  config_path = "../network"

  mock_outputs = {
    vpc_id = "vpc-0mock00000000000"
    cidr   = "10.1.0.0/16"
    subnet_ids = {
      private = ["subnet-0mockprivate0a", "subnet-0mockprivate0b", "subnet-0mockprivate0c"]
      intra   = ["subnet-0mockintra000a", "subnet-0mockintra000b", "subnet-0mockintra000c"]
      public  = ["subnet-0mockpublic00a", "subnet-0mockpublic00b", "subnet-0mockpublic00c"]
    }
  }
  mock_outputs_allowed_terraform_commands = ["validate", "plan"]
}

inputs = {
  name           = "shop-staging-orders"
  engine_version = "16"
  vpc_id         = dependency.network.outputs.vpc_id
  subnet_ids     = dependency.network.outputs.subnet_ids["intra"] # no internet route
  allowed_cidrs  = [dependency.network.outputs.cidr]
}
