"""Example agents under test, both on the real ``openai`` SDK: ``naive`` and ``guarded``."""
