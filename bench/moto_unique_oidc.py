#!/usr/bin/env python3
"""moto_server with one OIDC issuer per EKS cluster, as AWS gives.

moto 5.2.5 draws one random issuer id per process (moto/eks/models.py,
ISSUER_TEMPLATE), so every cluster in one moto shares the same issuer URL and the
second cluster's `CreateOpenIDConnectProvider` fails with EntityAlreadyExists. A
benchmark of many clusters in one account needs distinct issuers: this launcher
gives each cluster its own issuer id, then runs moto_server with the same arguments.
Started by bench/stacks.py with the venv's python.
"""

import secrets
import sys

from moto.eks import models
from moto.server import main

_original_init = models.Cluster.__init__


def _init_with_own_issuer(self, *args, **kwargs):
    _original_init(self, *args, **kwargs)
    issuer = self.identity["oidc"]["issuer"]
    base = issuer.rsplit("/", 1)[0]
    self.identity = {"oidc": {"issuer": f"{base}/{secrets.token_hex(16).upper()}"}}


models.Cluster.__init__ = _init_with_own_issuer

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
