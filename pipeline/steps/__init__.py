"""The recipes: each chains stages over the store (the only place stages meet DuckDB).

`nightly.py` crawls, dedupes, classifies and scores; `weekly.py` builds, archives and sends the
digest exactly once; `outreach.py` detects initiatives, applies the officer's decisions and
publishes the map. `pipeline/flows.py` wraps each recipe step in one Prefect task.
"""
