# Restoring paved_managed_database: a new database from a snapshot, and another as a
# point-in-time copy of a live one. Set snapshot_id to one of your snapshots (for
# example the final snapshot `<name>-final-<yyyymmddhhmm>` a destroyed database left).
# See examples/README.md to run this against moto, the local AWS emulator.

terraform {
  required_providers {
    paved = { source = "pavedroad/paved" }
  }
}

provider "paved" {}

variable "snapshot_id" {
  description = "A snapshot to restore from; null skips that database."
  type        = string
  default     = null
}

resource "paved_network" "net" {
  name    = "restore-net"
  profile = "development"
}

locals {
  network = {
    vpc_id     = paved_network.net.vpc_id
    subnet_ids = paved_network.net.subnet_ids["intra"]
  }
}

resource "paved_managed_database" "source" {
  name    = "ledger"
  profile = "development"
  network = local.network
}

# A copy of "ledger" at its latest restorable time.
resource "paved_managed_database" "ledger_copy" {
  name    = "ledger-copy"
  profile = "development"
  network = local.network

  restore = {
    source_db_instance_id      = paved_managed_database.source.id
    use_latest_restorable_time = true
  }
}

# A database from a snapshot.
resource "paved_managed_database" "from_snapshot" {
  count   = var.snapshot_id == null ? 0 : 1
  name    = "ledger-restored"
  profile = "development"
  network = local.network

  restore = {
    snapshot_id = var.snapshot_id
  }
}
