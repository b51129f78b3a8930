"""An embedded Toxiproxy-compatible server: the v2 HTTP API and every standard toxic, in
asyncio, so network faults need no Go binary. A real toxiproxy-server can be used instead."""
