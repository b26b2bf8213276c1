# Read by root.hcl for every unit under staging/.
locals {
  environment = "staging"
  profile     = "staging"
  aws_region  = "eu-west-1"
}
