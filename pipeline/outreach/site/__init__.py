"""The outreach map website: the catalogue in, a static site out (`static/map/` holds its templates
and assets). `publish.py` writes it and serves a preview; `views.py` prepares each page's values;
`exports.py` writes the CSV and Parquet files.
"""
