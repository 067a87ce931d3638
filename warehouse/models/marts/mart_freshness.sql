-- How fresh each source is: its newest loaded file, when it was loaded, how many files,
-- and the rows its latest loading run quarantined. The codebooks (survey_items) belong to
-- the survey; their freshness is the exports'.
WITH live AS (
    SELECT
        source,
        CASE
            WHEN source = 'survey'
                THEN CAST(CAST(EXTRACT(YEAR FROM file_date) AS INTEGER) || '-12-31' AS DATE)
            ELSE file_date
        END AS latest_date,
        finished_at
    FROM etl_batch
    WHERE status = 'loaded' AND superseded_by IS NULL AND source <> 'survey_items'
),
loaded AS (
    SELECT source, run_id, started_at, rows_quarantined
    FROM etl_batch
    WHERE status = 'loaded' AND source <> 'survey_items'
),
last_run AS (
    SELECT source, run_id
    FROM (
        SELECT
            source,
            run_id,
            ROW_NUMBER() OVER (PARTITION BY source ORDER BY MAX(started_at) DESC, run_id DESC)
                AS recency
        FROM loaded
        GROUP BY source, run_id
    ) AS ranked
    WHERE recency = 1
)
SELECT
    l.source,
    MAX(l.latest_date) AS latest_file_date,
    MAX(l.finished_at) AS latest_loaded_at,
    CAST(COUNT(*) AS INTEGER) AS files_loaded,
    CAST((
        SELECT COALESCE(SUM(q.rows_quarantined), 0)
        FROM loaded AS q
        JOIN last_run AS r ON r.source = q.source AND r.run_id = q.run_id
        WHERE q.source = l.source
    ) AS INTEGER) AS rows_quarantined_last_run
FROM live AS l
GROUP BY l.source
