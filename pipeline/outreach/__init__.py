"""Outreach: items in, proposed initiatives out, and the officer-validated catalogue as a website.

Open `detect.py` first: `propose_initiatives` keeps what the detector (`model.py`) accepts and reads
each initiative's kind, audience, dates, place and contact; `merge.py` joins editions of one
initiative; `catalogue.py` holds the Initiative type, `initiatives.yaml` and how the officer's
decisions apply; `review.py` is the review CSV round trip; `site/` publishes the static map.
Imports the shared vocabulary and `digest.events` (event dates in French text).
"""
