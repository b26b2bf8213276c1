include "root" {
  path = find_in_parent_folders("root.hcl")
}

terraform {
  source = "../../modules/network"
}

inputs = {
  name = "shop-staging"
  cidr = "10.1.0.0/16"
}
