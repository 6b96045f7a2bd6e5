"""The service's routers, one per resource: scoring, batches, cooperatives, models, health."""

__all__: list[str] = []
