-- The latest state of each training record: latest record_updated_at wins; ties go to
-- the later file (by the date in its name), then to the later row of that file.
SELECT
    record_id, employee_key, course_id, course_title, job_code, required,
    assigned_on, completed_on, hours, status,
    CASE WHEN completed_on IS NOT NULL THEN completed_on - assigned_on END AS days_to_complete,
    batch_id AS source_batch_id,
    row_number AS source_row_number
FROM {{ latest_state("stg_training_record", "record_id") }}
WHERE recency = 1
