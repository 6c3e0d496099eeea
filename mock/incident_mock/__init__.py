"""The incident-contract mock: Connexion serves openapi.yaml over a stateful in-memory store."""

import warnings

# Connexion 3.3 imports starlette.testclient, which warns about httpx at import time; it is not ours to fix.
warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
