"""The incident-contract conformance suite: checks any server against openapi.yaml, rule by rule."""
