"""Digest: the week's stories in, the officer's French digest out (HTML, text, JSON, iCalendar, email).

Open `build.py` first: `build_digest` selects and ranks each category's stories (a short list, not
filler) and lists the coming events. `pages.py` tells the pages that are no story (listings, about
pages), `rank.py` estimates the officer's grade with French reasons, `learn.py` learns its weights
from graded examples and the officer's grades (`grades.py`: the CSV round trip), `events.py` reads event dates in
French text, `entries.py` holds the Digest types, `render.py` and `ics.py` write the files and
`mail.py` sends the email. Imports the shared vocabulary and classify (its CSV helpers).
"""
