"""The incident-contract mock: Connexion serves openapi.yaml over a stateful in-memory store."""
