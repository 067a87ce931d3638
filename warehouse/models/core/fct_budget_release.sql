-- The latest state of each release: latest record_updated_at wins; ties go to the later
-- file (by the date in its name), then to the later row of that file.
SELECT
    release_id, position_id, action, job_code, pharmacy_model, fte, annual_amount,
    requested_date, released_date, status,
    CASE WHEN released_date IS NOT NULL THEN released_date - requested_date END AS days_to_release,
    batch_id AS source_batch_id,
    row_number AS source_row_number
FROM (
    SELECT
        r.*,
        ROW_NUMBER() OVER (
            PARTITION BY release_id
            ORDER BY record_updated_at DESC, file_date DESC, batch_id DESC, row_number DESC
        ) AS recency
    FROM stg_budget_release AS r
) AS ranked
WHERE recency = 1
