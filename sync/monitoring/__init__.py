"""What tells an operator the app is healthy: /health/, /metrics and the processes'
heartbeats."""
