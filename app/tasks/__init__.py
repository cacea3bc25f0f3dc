"""Celery tasks: they take ids and bytes, never ORM objects, and keep no results."""
