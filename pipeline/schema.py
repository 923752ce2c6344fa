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
    # 3: what HAL says of a deposit (kind: hal sources), beside its item
    """
    CREATE TABLE publications (
        item_id VARCHAR PRIMARY KEY, hal_id VARCHAR NOT NULL, doc_type VARCHAR NOT NULL,
        authors VARCHAR[] NOT NULL, journal VARCHAR, conference VARCHAR, doi VARCHAR,
        open_access BOOLEAN NOT NULL, pdf_url VARCHAR, updated_at TIMESTAMPTZ NOT NULL);
    """,
]

VIEWS: list[str] = [
    """
    CREATE OR REPLACE VIEW v_items AS
    SELECT i.item_id, i.source_id, i.url, i.title, i.published_at, i.first_seen_at, i.lang, i.text,
           coalesce(l.category, p.category) AS category,
           CASE WHEN l.category IS NOT NULL THEN 1.0 ELSE p.confidence END AS category_confidence,
           i.cluster_id, w.score AS worthiness,
           p.model_version, l.category IS NOT NULL AS category_corrected, w.reasons AS worthiness_reasons,
           i.summary, i.image_url, i.updated_at
    FROM items i
    LEFT JOIN predictions p USING (item_id)
    LEFT JOIN labels l USING (item_id)
    LEFT JOIN worthiness w USING (item_id)
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
    SELECT i.cluster_id, c.representative_item_id, count(*) AS item_count,
           count(DISTINCT i.source_id) AS source_count, list(DISTINCT i.source_id ORDER BY i.source_id) AS source_ids,
           min(i.first_seen_at) AS first_seen_at, min(i.published_at) AS first_published_at
    FROM items i LEFT JOIN clusters c USING (cluster_id)
    WHERE i.cluster_id IS NOT NULL
    GROUP BY i.cluster_id, c.representative_item_id
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
               started_at AS last_fetch_at
        FROM fetch_log QUALIFY row_number() OVER (PARTITION BY source_id ORDER BY started_at DESC) = 1),
    failures AS (
        SELECT f.source_id, count(*) AS consecutive_failures FROM fetch_log f LEFT JOIN last_ok o USING (source_id)
        WHERE f.status = 'error' AND (o.last_success_at IS NULL OR f.started_at > o.last_success_at)
        GROUP BY f.source_id),
    rhythm AS (
        SELECT source_id, max(first_seen_at) AS last_new_item_at,
               count(*) FILTER (WHERE coalesce(published_at, first_seen_at) >= now() - INTERVAL 30 DAY)
                   AS items_last_30_days,
               CASE WHEN count(*) > 1 THEN
                   (epoch(max(coalesce(published_at, first_seen_at))) - epoch(min(coalesce(published_at, first_seen_at))))
                   / (count(*) - 1) END AS mean_gap_s,
               max(coalesce(published_at, first_seen_at)) AS last_published_at
        FROM items GROUP BY source_id)
    SELECT s.source_id, s.name, o.last_status, o.last_error_code,
           coalesce(f.consecutive_failures, 0) AS consecutive_failures, k.last_success_at,
           r.last_new_item_at, coalesce(r.items_last_30_days, 0) AS items_last_30_days,
           -- silent: reachable, but nothing published for 3x its usual gap and at least 30 days
           (o.last_status IS NOT NULL AND o.last_status <> 'error' AND (r.last_published_at IS NULL OR
               epoch(now()) - epoch(r.last_published_at) > greatest(3 * coalesce(r.mean_gap_s, 0), 30 * 86400)))
               AS silent,
           o.last_error_detail, o.last_fetch_at, s.kind, s.url, s.declared_category, s.enabled
    FROM sources s
    LEFT JOIN last_outcome o USING (source_id)
    LEFT JOIN last_ok k USING (source_id)
    LEFT JOIN failures f USING (source_id)
    LEFT JOIN rhythm r USING (source_id)
    """,
]
