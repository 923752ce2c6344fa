"""Crawl: one configured Source in, one CrawlResult out (items, new validators, an outcome).

Open `source.py` first: `crawl_source` walks a feed, an html listing with its pagination, or a
sitemap, and turns each page into an Item. Below it: `fetch.py` (polite, safe HTTP; never raises for
network failures), `guard.py` (address policy), `robots.py` (robots.txt rules), `parse.py` (feeds and
sitemaps), `listing.py` (item links and next page of a listing), `extract.py` (an item page's title,
date, text, language). `discover.py` uses the same parts to propose sources for a new site.
Imports only the shared vocabulary (models, config, normalize, dates).
"""
