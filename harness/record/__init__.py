"""From real sessions to scenarios: vcrpy cassettes of model traffic, read and turned into
scripts (``agent-chaos scenario from-cassette``)."""
