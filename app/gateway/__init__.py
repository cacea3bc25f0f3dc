"""Server-side pulling of stream cameras (``make gateway``, and a thread of ``make run``).

Apart from app/streams on purpose: the edge agent's image ships app/streams alone (no Flask),
while the gateway needs the app (listing, statuses, intake).
"""
