-- The latest state of each release: latest record_updated_at wins; ties go to the later
-- file (by the date in its name), then to the later row of that file.
SELECT
    release_id, position_id, action, job_code, pharmacy_model, fte, annual_amount,
    requested_date, released_date, status,
    CASE WHEN released_date IS NOT NULL THEN released_date - requested_date END AS days_to_release,
    batch_id AS source_batch_id,
    row_number AS source_row_number
FROM {{ latest_state("stg_budget_release", "release_id") }}
WHERE recency = 1
