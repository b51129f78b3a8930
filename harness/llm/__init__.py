"""The mock LLM: an OpenAI-compatible server that plays a scripted, fallible model."""
