"""The request pipeline: registry, dispatcher (FLARE's order), reply builder, targets, forwarding to sites."""
