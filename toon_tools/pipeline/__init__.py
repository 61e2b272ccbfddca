"""``toon pipeline``: a fast, cached, resumable DAG runner for LLM pipelines."""
