"""The alerts path: alert sources and their tokens, alert events and heartbeats, alerts, and the alert routes
that turn firing alerts into incidents (`operations.OPERATIONS`)."""
