# Read by root.hcl for every unit under prod/.
locals {
  environment = "prod"
  profile     = "production" # 3 zones, NAT per zone, Multi-AZ + replica, deletion protection
  aws_region  = "eu-west-1"
}
