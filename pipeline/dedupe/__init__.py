"""Dedupe: items in, clusters out, one cluster per story, across sources and across time.

Open `cluster.py` first: `fingerprint_items` and `assign_clusters` match new items against the
stored window (exact hashes, GUIDs, then MinHash band keys from `minhash.py`), and `verify.py`
decides whether two candidates are really one story (templated announcements stay apart) or one
page holds the other among other things (a newsletter or a listing *mentions* an item: a link in
`ClusterAssignment.mentions`, never a merge).
`evaluate.py` scores precision and recall on labelled pairs. Imports only the shared vocabulary.
"""
