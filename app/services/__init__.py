"""Business operations on ids and a tenant; no request or response objects here."""
