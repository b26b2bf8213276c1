# The module applied against a mocked paved provider. The mock makes up the values
# the cloud would give (ids, endpoints) at apply; the ones asserted on are fixed here.
mock_provider "paved" {
  mock_resource "paved_network" {
    defaults = {
      vpc_id = "vpc-0123456789abcdef0"
      subnet_ids = {
        private = ["subnet-p1", "subnet-p2", "subnet-p3"]
        intra   = ["subnet-i1", "subnet-i2", "subnet-i3"]
        public  = ["subnet-u1", "subnet-u2", "subnet-u3"]
      }
    }
  }
}

variables {
  name = "shop"
}

run "apply_mocked" {
  command = apply

  variables {
    environment = "prod"
    cidr        = "10.20.0.0/16"
  }

  # The database's endpoint, as the mocked apply returns it.
  override_resource {
    target = paved_managed_database.main
    values = {
      endpoint = "shop-db.mock.eu-west-1.rds.amazonaws.com"
    }
  }

  assert {
    condition     = output.vpc_id == "vpc-0123456789abcdef0"
    error_message = "vpc_id must come from the network"
  }

  assert {
    condition     = output.database_endpoint == "shop-db.mock.eu-west-1.rds.amazonaws.com"
    error_message = "database_endpoint must be the database's endpoint"
  }

  assert {
    condition     = paved_managed_database.main.network.allowed_cidrs == tolist(["10.20.0.0/16"])
    error_message = "a custom cidr must reach the database's allowed_cidrs"
  }

  assert {
    condition     = paved_managed_database.main.network.subnet_ids == tolist(["subnet-i1", "subnet-i2", "subnet-i3"])
    error_message = "the applied database must use the network's intra subnets"
  }
}
