"""Typed contracts for TOON (issue 13): JSON Schema over the decoded data, with
every problem placed at its line:col in the TOON text.

- :mod:`.violation`: one problem with a schema or a Python type, and its position;
- :mod:`.validate`: loading JSON Schemas (JSON or TOON files) and validating documents;
- :mod:`.skeleton`: the TOON skeleton a schema describes (prompts, ``toon schema skeleton``);
- :mod:`.infer`: a schema that given documents satisfy (``toon schema infer``).

Heavy libraries (jsonschema, pydantic) are imported inside the functions that need them.
"""
