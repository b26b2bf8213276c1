# A small module built on paved: a network and a PostgreSQL database in its intra
# subnets, with the environment choosing the profile. tests/ holds its `terraform
# test` suite, which runs against a mocked paved provider: no cloud, no credentials.
#
#   terraform init && terraform test

terraform {
  required_version = ">= 1.9" # override_during in the tests

  required_providers {
    paved = { source = "pavedroad/paved" }
  }
}

locals {
  profile = var.environment == "prod" ? "production" : var.environment
}

resource "paved_network" "main" {
  name    = var.name
  profile = local.profile
  cidr    = var.cidr
}

resource "paved_managed_database" "main" {
  name    = "${var.name}-db"
  profile = local.profile

  network = {
    vpc_id        = paved_network.main.vpc_id
    subnet_ids    = paved_network.main.subnet_ids["intra"]
    allowed_cidrs = [paved_network.main.cidr]
  }
}
