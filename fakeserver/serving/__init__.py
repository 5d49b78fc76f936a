"""Serving: the respond path shared by the TLS listener and the in-process transport, and fault injection."""
