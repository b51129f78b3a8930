"""Small agents on real frameworks, each wiring the world's tools from ``GET /tools``
(``pip install -e ".[frameworks]"``). They are plain quick-start agents: no guardrails beyond
what the framework gives by default, so the harness shows how each framework's defaults fare.

- ``openai_agents:run`` — openai-agents with its default model (the Responses API);
- ``anthropic_sdk:run`` — the anthropic SDK's tool-use loop (Messages API);
- ``google_genai:run`` — google-genai's generate_content with function declarations (Gemini);
- ``pydantic_ai_agent:run`` — pydantic-ai on Chat Completions;
- ``langgraph_agent:run`` — langgraph's prebuilt ReAct agent on langchain-openai, streaming;
- ``smolagents_agent:run`` — smolagents' ToolCallingAgent, which finishes through final_answer.
"""
