"""Classify: items in, a category (research, teaching, student) and a confidence out.

Open `model.py` first: training on `classifiers/` data, prediction with the source's declared
category as a prior, saving and loading the model. `evaluate.py` cross-validates it grouped by
source; `labels.py` is the officer's correction round trip (CSV). Imports only the shared vocabulary.
"""
