-- Each respondent in each group of each grouping of the survey marts: the whole
-- organisation (ALL), their job family, pharmacy model and department ("(not stated)"
-- where left empty). mart_engagement and mart_engagement_item group by it alike.
WITH respondents AS (
    SELECT
        batch_id, row_number, survey_year,
        COALESCE(job_family, '(not stated)') AS job_family,
        COALESCE(pharmacy_model, '(not stated)') AS pharmacy_model,
        COALESCE(department, '(not stated)') AS department
    FROM stg_survey_respondent
)
SELECT survey_year, 'ALL' AS group_by, 'ALL' AS group_value, batch_id, row_number FROM respondents
UNION ALL
SELECT survey_year, 'job_family', job_family, batch_id, row_number FROM respondents
UNION ALL
SELECT survey_year, 'pharmacy_model', pharmacy_model, batch_id, row_number FROM respondents
UNION ALL
SELECT survey_year, 'department', department, batch_id, row_number FROM respondents
