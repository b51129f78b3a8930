"""The simulated world of one run: tool API definitions, their state, the trace recorder."""
