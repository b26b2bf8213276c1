# paved_zones: the availability zones a paved stack spreads over.
#
# The zone count follows the profile (production 3, staging 3, development 2) unless
# zone_count overrides it; region defaults to the provider's (AWS_REGION).
# See examples/README.md to run this against moto, the local AWS emulator.

terraform {
  required_providers {
    paved = { source = "pavedroad/paved" }
  }
}

provider "paved" {}

# The production layout in the provider's region: three zones.
data "paved_zones" "production" {}

# A cheaper development stack in another region: two zones.
data "paved_zones" "development" {
  region  = "eu-west-1"
  profile = "development"
}

output "production_zones" {
  description = "Zone names for a production stack."
  value       = data.paved_zones.production.names
}

output "production_zone_ids" {
  description = "Zone ids (stable across accounts, unlike names)."
  value       = data.paved_zones.production.ids
}

output "development_zones" {
  description = "Zone names for a development stack in eu-west-1."
  value       = data.paved_zones.development.names
}

output "development_region" {
  value = data.paved_zones.development.region
}
