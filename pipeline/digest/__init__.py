"""Digest: the week's stories in, the officer's French digest out (HTML, text, JSON, iCalendar, email).

Open `build.py` first: `build_digest` selects and ranks each category's stories and lists the coming
events. `rank.py` scores mediation-worthiness with French reasons, `events.py` reads event dates in
French text, `entries.py` holds the Digest types, `render.py` and `ics.py` write the files and
`mail.py` sends the email. Imports the shared vocabulary only.
"""
