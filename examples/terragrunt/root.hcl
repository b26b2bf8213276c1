# The root configuration every unit includes (include "root" { path =
# find_in_parent_folders("root.hcl") }). It keeps each unit's state in S3 under the
# unit's path (prod/database/terraform.tfstate), locked with S3's own lock file, and
# writes the paved provider block into each unit as provider.tf.
#
# Named root.hcl, not terragrunt.hcl: Terragrunt treats every terragrunt.hcl as a
# unit, so a root terragrunt.hcl would be run by `terragrunt run --all` as a unit of
# its own.

locals {
  # prod/env.hcl or staging/env.hcl: found from the unit that includes this file.
  env         = read_terragrunt_config(find_in_parent_folders("env.hcl"))
  environment = local.env.locals.environment
  profile     = local.env.locals.profile
  aws_region  = local.env.locals.aws_region

  # Override per account: PAVED_STATE_BUCKET=my-bucket terragrunt run --all plan
  state_bucket = get_env("PAVED_STATE_BUCKET", "paved-terraform-state")
}

remote_state {
  backend = "s3"

  generate = {
    path      = "backend.tf"
    if_exists = "overwrite_terragrunt"
  }

  config = {
    bucket       = local.state_bucket
    key          = "${path_relative_to_include()}/terraform.tfstate"
    region       = local.aws_region
    encrypt      = true
    use_lockfile = true # S3 native locking (Terraform 1.10+): no DynamoDB table
  }
}

generate "provider" {
  path      = "provider.tf"
  if_exists = "overwrite_terragrunt"
  contents  = <<-EOF
    provider "paved" {
      default_tags = {
        environment = "${local.environment}"
        managed_by  = "terragrunt"
        unit        = "${path_relative_to_include()}"
      }

      aws {
        region = "${local.aws_region}"
      }
    }
  EOF
}

# Merged into every unit's inputs (a unit's own inputs win).
inputs = {
  profile = local.profile
  tags = {
    environment = local.environment
  }
}
