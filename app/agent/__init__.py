"""The edge agent: reads cameras on the customer's network and sends their frames to /capture,
as a browser camera does (it connects out: no port opened, no camera exposed)."""
