include "root" {
  path = find_in_parent_folders("root.hcl")
}

terraform {
  source = "../../modules/cluster"
}

# The network's ids. The mocks let `plan` and `validate` run before the network
# exists (its outputs are unknown until it is applied); apply always reads the real
# outputs.
dependency "network" {
  config_path = "../network"

  mock_outputs = {
    vpc_id = "vpc-0mock00000000000"
    subnet_ids = {
      private = ["subnet-0mockprivate0a", "subnet-0mockprivate0b", "subnet-0mockprivate0c"]
      intra   = ["subnet-0mockintra000a", "subnet-0mockintra000b", "subnet-0mockintra000c"]
      public  = ["subnet-0mockpublic00a", "subnet-0mockpublic00b", "subnet-0mockpublic00c"]
    }
  }
  mock_outputs_allowed_terraform_commands = ["validate", "plan"]
}

inputs = {
  name               = "shop-staging"
  kubernetes_version = "1.31"
  vpc_id             = dependency.network.outputs.vpc_id
  subnet_ids         = dependency.network.outputs.subnet_ids
}
