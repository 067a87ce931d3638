-- The latest state of each training record: latest record_updated_at wins; ties go to
-- the later file (by the date in its name), then to the later row of that file.
SELECT
    record_id, employee_key, course_id, course_title, job_code, required,
    assigned_on, completed_on, hours, status,
    CASE WHEN completed_on IS NOT NULL THEN completed_on - assigned_on END AS days_to_complete,
    batch_id AS source_batch_id,
    row_number AS source_row_number
FROM (
    SELECT
        t.*,
        ROW_NUMBER() OVER (
            PARTITION BY record_id
            ORDER BY record_updated_at DESC, file_date DESC, batch_id DESC, row_number DESC
        ) AS recency
    FROM stg_training_record AS t
) AS ranked
WHERE recency = 1
