-- Engagement and career-growth indexes per survey year and group, with anonymity.
-- {min_group_size} is bound when the view is (re)created (default 5).
WITH respondents AS (
    SELECT
        batch_id, row_number, survey_year,
        COALESCE(job_family, '(not stated)') AS job_family,
        COALESCE(pharmacy_model, '(not stated)') AS pharmacy_model,
        COALESCE(department, '(not stated)') AS department
    FROM stg_survey_respondent
),
scored_items AS (
    SELECT a.batch_id, a.row_number, i.dimension, a.answer
    FROM stg_survey_answer AS a
    JOIN stg_survey_respondent AS r ON r.batch_id = a.batch_id AND r.row_number = a.row_number
    JOIN stg_survey_item AS i ON i.survey_year = r.survey_year AND i.question_id = a.question_id
    WHERE i.dimension IN ('engagement', 'career_growth')
),
respondent_scores AS (
    SELECT
        batch_id, row_number,
        AVG(CASE WHEN dimension = 'engagement' THEN CAST(answer AS DOUBLE PRECISION) END) AS engagement,
        AVG(CASE WHEN dimension = 'career_growth' THEN CAST(answer AS DOUBLE PRECISION) END) AS career_growth,
        SUM(CASE WHEN dimension = 'engagement' AND answer >= 4 THEN 1 ELSE 0 END) AS favorable,
        SUM(CASE WHEN dimension = 'engagement' THEN 1 ELSE 0 END) AS engagement_answers
    FROM scored_items
    GROUP BY batch_id, row_number
),
grouped AS (
    SELECT survey_year, 'ALL' AS group_by, 'ALL' AS group_value, batch_id, row_number FROM respondents
    UNION ALL
    SELECT survey_year, 'job_family', job_family, batch_id, row_number FROM respondents
    UNION ALL
    SELECT survey_year, 'pharmacy_model', pharmacy_model, batch_id, row_number FROM respondents
    UNION ALL
    SELECT survey_year, 'department', department, batch_id, row_number FROM respondents
),
groups AS (
    SELECT
        g.survey_year,
        g.group_by,
        g.group_value,
        CAST(COUNT(*) AS INTEGER) AS respondents,
        ROUND(CAST(AVG((s.engagement - 1) * 25) AS NUMERIC(18, 6)), 1) AS engagement_index,
        ROUND(CAST(AVG((s.career_growth - 1) * 25) AS NUMERIC(18, 6)), 1) AS career_growth_index,
        CASE WHEN SUM(s.engagement_answers) > 0
            THEN CAST(SUM(s.favorable) AS DOUBLE PRECISION) / SUM(s.engagement_answers) END
            AS favorable_pct
    FROM grouped AS g
    LEFT JOIN respondent_scores AS s ON s.batch_id = g.batch_id AND s.row_number = g.row_number
    GROUP BY g.survey_year, g.group_by, g.group_value
),
ranked AS (
    SELECT
        *,
        respondents < {min_group_size} AS too_small,
        SUM(CASE WHEN respondents < {min_group_size} THEN 1 ELSE 0 END)
            OVER (PARTITION BY survey_year, group_by) AS small_groups,
        ROW_NUMBER() OVER (
            PARTITION BY survey_year, group_by
            ORDER BY CASE WHEN respondents < {min_group_size} THEN 1 ELSE 0 END, respondents, group_value
        ) AS size_rank
    FROM groups
),
judged AS (
    SELECT
        *,
        too_small OR (small_groups = 1 AND size_rank = 1) AS suppressed
    FROM ranked
)
SELECT
    survey_year,
    group_by,
    group_value,
    respondents,
    CASE WHEN suppressed THEN NULL ELSE engagement_index END AS engagement_index,
    CASE WHEN suppressed THEN NULL ELSE career_growth_index END AS career_growth_index,
    CASE WHEN suppressed THEN NULL ELSE favorable_pct END AS favorable_pct,
    suppressed
FROM judged
