# terraform test with a mocked paved provider: the provider's schema is real (read
# from the installed paved binary), its answers are mocked, so no cloud is called.
mock_provider "paved" {
  # Every paved_network the mock "creates" gets these ids, at plan too
  # (override_during = plan), so the plan-time asserts can see the wiring.
  mock_resource "paved_network" {
    override_during = plan
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

run "staging_by_default" {
  command = plan

  assert {
    condition     = paved_network.main.profile == "staging" && paved_managed_database.main.profile == "staging"
    error_message = "the default environment must plan the staging profile on both resources"
  }

  assert {
    condition     = paved_managed_database.main.name == "shop-db"
    error_message = "the database must be named after the stack"
  }
}

run "prod_is_production" {
  command = plan

  variables {
    environment = "prod"
  }

  assert {
    condition     = output.profile == "production"
    error_message = "environment prod must choose the production profile"
  }
}

run "database_in_the_networks_intra_subnets" {
  command = plan

  assert {
    condition     = paved_managed_database.main.network.vpc_id == "vpc-0123456789abcdef0"
    error_message = "the database must live in the network's VPC"
  }

  assert {
    condition     = paved_managed_database.main.network.subnet_ids == tolist(["subnet-i1", "subnet-i2", "subnet-i3"])
    error_message = "the database must use the network's intra subnets (no internet route)"
  }

  assert {
    condition     = paved_managed_database.main.network.allowed_cidrs == tolist(["10.0.0.0/16"])
    error_message = "the database must admit only the network's range"
  }
}

run "rejects_a_bad_environment" {
  command = plan

  variables {
    environment = "qa"
  }

  expect_failures = [var.environment]
}
