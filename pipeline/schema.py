"""The database schema as SQL: numbered migrations (append only) and the analysts' views.

Documented for analysts in docs/schema.md; tests/test_store.py keeps the two in step.
Never edit a migration that has shipped: add a new one.
"""

MIGRATIONS: list[str] = [
    # 1: first schema
    """
    CREATE TABLE sources (
        source_id VARCHAR PRIMARY KEY, name VARCHAR NOT NULL, kind VARCHAR NOT NULL, url VARCHAR NOT NULL,
        declared_category VARCHAR NOT NULL, enabled BOOLEAN NOT NULL, updated_at TIMESTAMPTZ NOT NULL);
    CREATE TABLE items (
        item_id VARCHAR PRIMARY KEY, source_id VARCHAR NOT NULL, url VARCHAR NOT NULL, title VARCHAR NOT NULL,
        published_at TIMESTAMPTZ, first_seen_at TIMESTAMPTZ NOT NULL, updated_at TIMESTAMPTZ NOT NULL,
        lang VARCHAR, text VARCHAR, summary VARCHAR, image_url VARCHAR, guid VARCHAR, content_hash VARCHAR,
        cluster_id VARCHAR, cluster_match VARCHAR);
    CREATE TABLE item_bands (item_id VARCHAR NOT NULL, band_key BIGINT NOT NULL);
    CREATE TABLE clusters (cluster_id VARCHAR PRIMARY KEY, representative_item_id VARCHAR NOT NULL);
    CREATE TABLE predictions (
        item_id VARCHAR PRIMARY KEY, category VARCHAR NOT NULL, confidence DOUBLE NOT NULL,
        model_version VARCHAR NOT NULL, predicted_at TIMESTAMPTZ NOT NULL);
    CREATE TABLE labels (
        item_id VARCHAR PRIMARY KEY, category VARCHAR NOT NULL, comment VARCHAR, labelled_at TIMESTAMPTZ NOT NULL);
    CREATE TABLE worthiness (
        item_id VARCHAR PRIMARY KEY, score DOUBLE NOT NULL, reasons VARCHAR, scored_at TIMESTAMPTZ NOT NULL);
    CREATE TABLE validators (
        url VARCHAR PRIMARY KEY, etag VARCHAR, last_modified VARCHAR, updated_at TIMESTAMPTZ NOT NULL);
    CREATE TABLE runs (
        run_id VARCHAR PRIMARY KEY, kind VARCHAR NOT NULL, started_at TIMESTAMPTZ NOT NULL,
        finished_at TIMESTAMPTZ, status VARCHAR NOT NULL, sources_ok INTEGER, sources_failed INTEGER,
        items_new INTEGER, items_updated INTEGER);
    CREATE TABLE fetch_log (
        run_id VARCHAR NOT NULL, source_id VARCHAR NOT NULL, started_at TIMESTAMPTZ NOT NULL,
        status VARCHAR NOT NULL, error_code VARCHAR, error_detail VARCHAR, http_status INTEGER,
        pages_fetched INTEGER, items_found INTEGER, page_errors INTEGER, duration_s DOUBLE);
    CREATE TABLE digests (
        week VARCHAR NOT NULL, recipients VARCHAR NOT NULL, status VARCHAR NOT NULL, subject VARCHAR,
        message_id VARCHAR, built_at TIMESTAMPTZ NOT NULL, sent_at TIMESTAMPTZ, attempts INTEGER NOT NULL,
        last_error VARCHAR, PRIMARY KEY (week, recipients));
    CREATE TABLE digest_items (
        week VARCHAR NOT NULL, cluster_id VARCHAR NOT NULL, item_id VARCHAR NOT NULL, section VARCHAR NOT NULL,
        rank INTEGER NOT NULL, PRIMARY KEY (week, cluster_id));
    CREATE TABLE models (
        model_version VARCHAR PRIMARY KEY, trained_at TIMESTAMPTZ NOT NULL, examples INTEGER NOT NULL,
        corrections INTEGER NOT NULL);
    """,
    # 2: the outreach map's catalogue of initiatives
    """
    CREATE TABLE initiatives (
        initiative_id VARCHAR PRIMARY KEY, title VARCHAR NOT NULL, kind VARCHAR NOT NULL,
        organisers VARCHAR[] NOT NULL, audience VARCHAR[] NOT NULL, status VARCHAR NOT NULL,
        editions STRUCT("year" INTEGER, "start" DATE, "end" DATE, place VARCHAR)[] NOT NULL,
        place VARCHAR, contact VARCHAR, evidence VARCHAR[] NOT NULL, origin VARCHAR NOT NULL,
        validated BOOLEAN NOT NULL, description VARCHAR, rejected BOOLEAN NOT NULL, merged_into VARCHAR,
        updated_at TIMESTAMPTZ NOT NULL);
    CREATE TABLE initiative_decisions (
        initiative_id VARCHAR NOT NULL, action VARCHAR NOT NULL, fields VARCHAR, merge_into VARCHAR,
        csv_file VARCHAR, line INTEGER, applied_at TIMESTAMPTZ NOT NULL);
    """,
    # 3: whole backfills (progress per run, pages that hold no item), where each date comes from
    """
    ALTER TABLE items ADD COLUMN date_source VARCHAR;
    ALTER TABLE fetch_log ADD COLUMN listing_pages INTEGER;
    ALTER TABLE fetch_log ADD COLUMN item_pages INTEGER;
    ALTER TABLE fetch_log ADD COLUMN backfill_done INTEGER;
    ALTER TABLE fetch_log ADD COLUMN backfill_total INTEGER;
    CREATE TABLE empty_pages (
        url VARCHAR PRIMARY KEY, source_id VARCHAR NOT NULL, error_code VARCHAR NOT NULL,
        seen_at TIMESTAMPTZ NOT NULL);
    """,
    # 4: no input stops the night: items a step could not handle, and the server's word on timing
    """
    CREATE TABLE item_failures (
        run_id VARCHAR NOT NULL, item_id VARCHAR NOT NULL, source_id VARCHAR NOT NULL, stage VARCHAR NOT NULL,
        error_code VARCHAR NOT NULL, error_detail VARCHAR, failed_at TIMESTAMPTZ NOT NULL);
    ALTER TABLE runs ADD COLUMN items_failed INTEGER;
    ALTER TABLE fetch_log ADD COLUMN retry_at TIMESTAMPTZ;
    -- dates stored before they were checked at intake: outside 1990..next year they are no dates
    UPDATE items SET published_at = NULL
    WHERE year(published_at) < 1990 OR year(published_at) > year(now()) + 1;
    """,
    # 5: pages that hold an item among other things (newsletters, listings) mention it, never merge
    """
    CREATE TABLE item_mentions (
        container_item_id VARCHAR NOT NULL, item_id VARCHAR NOT NULL, found_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (container_item_id, item_id));
    """,
    # 6: the officer's worthiness grades of digest entries (0-3), learned from by the next ranking
    """
    CREATE TABLE worthiness_grades (
        item_id VARCHAR PRIMARY KEY, grade INTEGER NOT NULL, comment VARCHAR, graded_at TIMESTAMPTZ NOT NULL);
    """,
    # 7: the stories' coverage as a table (v_clusters reads it: instant at a million items)
    """
    CREATE TABLE cluster_coverage AS
    SELECT i.cluster_id, c.representative_item_id, count(*) AS item_count,
           count(DISTINCT i.source_id) AS source_count, list(DISTINCT i.source_id ORDER BY i.source_id) AS source_ids,
           min(i.first_seen_at) AS first_seen_at, min(i.published_at) AS first_published_at
    FROM items i LEFT JOIN clusters c USING (cluster_id)
    WHERE i.cluster_id IS NOT NULL
    GROUP BY i.cluster_id, c.representative_item_id;
    """,
    # 8: what HAL says of a deposit (kind: hal sources), beside its item
    """
    CREATE TABLE publications (
        item_id VARCHAR PRIMARY KEY, hal_id VARCHAR NOT NULL, doc_type VARCHAR NOT NULL,
        authors VARCHAR[] NOT NULL, journal VARCHAR, conference VARCHAR, doi VARCHAR,
        open_access BOOLEAN NOT NULL, pdf_url VARCHAR, updated_at TIMESTAMPTZ NOT NULL);
    """,
    # 9: each source's template (site name, banner, footer), kept for the nights that fetch too few pages to learn it
    """
    CREATE TABLE source_templates (source_id VARCHAR PRIMARY KEY, template VARCHAR NOT NULL, learned_at TIMESTAMPTZ NOT NULL);
    """,
    # 10: what a costly nightly computation was last run on (a hash of its inputs) and what it gave,
    # so that a night with nothing changed does not redo it
    """
    CREATE TABLE step_memos (step VARCHAR PRIMARY KEY, inputs_key VARCHAR NOT NULL, result VARCHAR NOT NULL,
                             saved_at TIMESTAMPTZ NOT NULL);
    """,
    # 11: analysts at a million items: each item's current tags kept in its row (v_items reads one
    # table, no join), and each source's publishing rhythm as a table (v_source_health aggregates no items)
    """
    ALTER TABLE items ADD COLUMN category VARCHAR;
    ALTER TABLE items ADD COLUMN category_confidence DOUBLE;
    ALTER TABLE items ADD COLUMN model_version VARCHAR;
    ALTER TABLE items ADD COLUMN category_corrected BOOLEAN DEFAULT false;
    ALTER TABLE items ADD COLUMN worthiness DOUBLE;
    ALTER TABLE items ADD COLUMN worthiness_reasons VARCHAR;
    UPDATE items SET category = t.category, category_confidence = t.category_confidence,
        model_version = t.model_version, category_corrected = t.category_corrected,
        worthiness = t.worthiness, worthiness_reasons = t.worthiness_reasons
    FROM (SELECT i.item_id, coalesce(l.category, p.category) AS category,
                 CASE WHEN l.category IS NOT NULL THEN 1.0 ELSE p.confidence END AS category_confidence,
                 p.model_version, l.category IS NOT NULL AS category_corrected,
                 w.score AS worthiness, w.reasons AS worthiness_reasons
          FROM items i LEFT JOIN predictions p USING (item_id) LEFT JOIN labels l USING (item_id)
          LEFT JOIN worthiness w USING (item_id)) t
    WHERE items.item_id = t.item_id;
    CREATE TABLE source_rhythm AS
    SELECT source_id, count(*) AS item_count, max(first_seen_at) AS last_new_item_at,
           min(coalesce(published_at, first_seen_at)) AS first_published_at,
           max(coalesce(published_at, first_seen_at)) AS last_published_at
    FROM items GROUP BY source_id;
    """,
    # 12: each scored item's timeless score (rank.TimelessScore as JSON), kept while its inputs are
    # unchanged so that a night with nothing new only adds the time to it
    """
    CREATE TABLE timeless_scores (
        item_id VARCHAR PRIMARY KEY,
        inputs_key VARCHAR NOT NULL,
        timeless VARCHAR NOT NULL,
        saved_at TIMESTAMPTZ NOT NULL
    );
    """,
]

# Each item's current tags (v_items' category, confidence, worthiness...), from the tables their
# writers fill: the store refreshes the rows of the items it has just tagged, labelled or scored.
ITEM_TAGS = """
    UPDATE items SET category = t.category, category_confidence = t.category_confidence,
        model_version = t.model_version, category_corrected = t.category_corrected,
        worthiness = t.worthiness, worthiness_reasons = t.worthiness_reasons
    FROM (SELECT i.item_id, coalesce(l.category, p.category) AS category,
                 CASE WHEN l.category IS NOT NULL THEN 1.0 ELSE p.confidence END AS category_confidence,
                 p.model_version, l.category IS NOT NULL AS category_corrected,
                 w.score AS worthiness, w.reasons AS worthiness_reasons
          FROM items i LEFT JOIN predictions p USING (item_id) LEFT JOIN labels l USING (item_id)
          LEFT JOIN worthiness w USING (item_id)
          WHERE i.item_id IN (SELECT item_id FROM {touched})) t
    WHERE items.item_id = t.item_id
"""

# Each source's publishing rhythm over all its items (v_source_health's last new item, usual gap and
# silence); the store recomputes the rows of the sources whose items it has just stored.
SOURCE_RHYTHM = """
    SELECT source_id, count(*) AS item_count, max(first_seen_at) AS last_new_item_at,
           min(coalesce(published_at, first_seen_at)) AS first_published_at,
           max(coalesce(published_at, first_seen_at)) AS last_published_at
    FROM items WHERE source_id IN (SELECT source_id FROM {touched}) GROUP BY source_id
"""

# The stories' coverage, computed from items (v_clusters at a million items takes seconds to
# aggregate; the nightly run keeps this table current for the stories it touched).
CLUSTER_COVERAGE = """
    SELECT i.cluster_id, c.representative_item_id, count(*) AS item_count,
           count(DISTINCT i.source_id) AS source_count, list(DISTINCT i.source_id ORDER BY i.source_id) AS source_ids,
           min(i.first_seen_at) AS first_seen_at, min(i.published_at) AS first_published_at
    FROM items i LEFT JOIN clusters c USING (cluster_id)
    WHERE i.cluster_id IS NOT NULL {only}
    GROUP BY i.cluster_id, c.representative_item_id
"""

VIEWS: list[str] = [
    """
    CREATE OR REPLACE VIEW v_items AS
    SELECT item_id, source_id, url, title, published_at, first_seen_at, lang, text, category,
           category_confidence, cluster_id, worthiness, model_version,
           coalesce(category_corrected, false) AS category_corrected, worthiness_reasons,
           summary, image_url, updated_at, date_source
    FROM items
    """,
    """
    CREATE OR REPLACE VIEW v_initiatives AS
    SELECT initiative_id, title, kind, organisers, audience, status, editions,
           list_max(list_transform(editions, lambda e: e."year")) AS last_year, place, contact, evidence, origin,
           validated, description, updated_at
    FROM initiatives
    WHERE NOT rejected AND merged_into IS NULL
    """,
    """
    CREATE OR REPLACE VIEW v_clusters AS
    SELECT cluster_id, representative_item_id, item_count, source_count, source_ids, first_seen_at,
           first_published_at
    FROM cluster_coverage
    """,
    """
    CREATE OR REPLACE VIEW v_mentions AS
    SELECT m.container_item_id, c.source_id AS container_source_id, c.url AS container_url,
           c.title AS container_title, m.item_id, i.source_id, i.url, i.title, i.cluster_id, m.found_at
    FROM item_mentions m JOIN items c ON c.item_id = m.container_item_id JOIN items i ON i.item_id = m.item_id
    """,
    """
    CREATE OR REPLACE VIEW v_publications AS
    SELECT i.item_id, i.source_id, p.hal_id, i.title, p.authors, i.published_at, i.first_seen_at,
           p.doc_type, p.journal, p.conference, p.doi, p.open_access, i.url, p.pdf_url, i.cluster_id,
           (SELECT count(*) FROM items o WHERE o.cluster_id = i.cluster_id AND o.item_id <> i.item_id) AS linked_items
    FROM publications p JOIN items i USING (item_id)
    """,
    """
    CREATE OR REPLACE VIEW v_source_health AS
    WITH last_ok AS (
        SELECT source_id, max(started_at) AS last_success_at FROM fetch_log WHERE status <> 'error' GROUP BY source_id),
    last_outcome AS (
        SELECT source_id, status AS last_status, error_code AS last_error_code, error_detail AS last_error_detail,
               started_at AS last_fetch_at, run_id AS last_run_id, retry_at
        FROM fetch_log QUALIFY row_number() OVER (PARTITION BY source_id ORDER BY started_at DESC) = 1),
    backfill AS (
        SELECT source_id, backfill_done, backfill_total FROM fetch_log WHERE status <> 'error'
        QUALIFY row_number() OVER (PARTITION BY source_id ORDER BY started_at DESC) = 1),
    failures AS (
        SELECT f.source_id, count(*) AS consecutive_failures FROM fetch_log f LEFT JOIN last_ok o USING (source_id)
        WHERE f.status = 'error' AND (o.last_success_at IS NULL OR f.started_at > o.last_success_at)
        GROUP BY f.source_id),
    recent AS (  -- the first condition lets the scan skip old row groups (items are stored in arrival order)
        SELECT source_id, count(*) AS items_last_30_days FROM items
        WHERE (first_seen_at >= now() - INTERVAL 30 DAY OR published_at >= now() - INTERVAL 30 DAY)
          AND coalesce(published_at, first_seen_at) >= now() - INTERVAL 30 DAY
        GROUP BY source_id),
    rhythm AS (
        SELECT r.source_id, r.last_new_item_at, coalesce(n.items_last_30_days, 0) AS items_last_30_days,
               CASE WHEN r.item_count > 1 THEN
                   (epoch(r.last_published_at) - epoch(r.first_published_at)) / (r.item_count - 1) END AS mean_gap_s,
               r.last_published_at
        FROM source_rhythm r LEFT JOIN recent n USING (source_id)),
    item_failed AS (
        SELECT source_id, run_id, count(*) AS item_failures FROM item_failures GROUP BY source_id, run_id)
    SELECT s.source_id, s.name, o.last_status, o.last_error_code,
           coalesce(f.consecutive_failures, 0) AS consecutive_failures, k.last_success_at,
           r.last_new_item_at, coalesce(r.items_last_30_days, 0) AS items_last_30_days,
           -- silent: reachable, but nothing published for 3x its usual gap and at least 30 days
           (o.last_status IS NOT NULL AND o.last_status <> 'error' AND (r.last_published_at IS NULL OR
               epoch(now()) - epoch(r.last_published_at) > greatest(3 * coalesce(r.mean_gap_s, 0), 30 * 86400)))
               AS silent,
           o.last_error_detail, o.last_fetch_at, s.kind, s.url, s.declared_category, s.enabled,
           b.backfill_done, b.backfill_total, o.retry_at, coalesce(x.item_failures, 0) AS item_failures
    FROM sources s
    LEFT JOIN last_outcome o USING (source_id)
    LEFT JOIN backfill b USING (source_id)
    LEFT JOIN item_failed x ON x.source_id = s.source_id AND x.run_id = o.last_run_id
    LEFT JOIN last_ok k USING (source_id)
    LEFT JOIN failures f USING (source_id)
    LEFT JOIN rhythm r USING (source_id)
    """,
]
