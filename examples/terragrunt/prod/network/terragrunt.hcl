include "root" {
  path = find_in_parent_folders("root.hcl")
}

terraform {
  source = "../../modules/network"
}

inputs = {
  name = "shop-prod"
  cidr = "10.0.0.0/16"
}
