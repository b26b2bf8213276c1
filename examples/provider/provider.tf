terraform {
  required_providers {
    paved = {
      source = "pavedroad/paved"
    }
  }
}

# Every setting is optional: AWS settings fall back to AWS_REGION, AWS_PROFILE,
# AWS_ENDPOINT_URL and the usual credential chain.
provider "paved" {
  default_tags = {
    team = "platform"
  }

  aws {
    region = "eu-west-1"
  }
}
