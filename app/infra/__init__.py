"""Infrastructure below the services: the shared state store (Redis or memory), mail, pagination,
secrets at rest. Nothing here knows a tenant's business."""
