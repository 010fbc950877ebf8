"""Applications: API keys held by services, workers and admin tools."""
