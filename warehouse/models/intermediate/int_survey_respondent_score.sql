-- Each survey respondent's scores, from their answers (one row per respondent): the
-- engagement and career-growth means, favourable engagement answers, and the engagement
-- means over the items also asked the year before and the year after. Built once per
-- run: mart_engagement reads it (and the three marts built on that view), where each of
-- them used to join a million answers again.
-- Engagement items asked in a year and the year before it, matched by item_key.
WITH shared AS (
    SELECT DISTINCT cur.survey_year, cur.item_key
    FROM dim_survey_item AS cur
    JOIN dim_survey_item AS prev
        ON prev.item_key = cur.item_key AND prev.survey_year = cur.survey_year - 1
    WHERE cur.dimension = 'engagement' AND prev.dimension = 'engagement'
),
-- Each item flagged once (tens of items), not each answer (a million). MATERIALIZED
-- keeps PostgreSQL from folding the flags back into the answers' join, where it paired
-- every answer with `shared` in a nested loop (18M comparisons).
items AS MATERIALIZED (
    SELECT
        i.survey_year, i.question_id, i.dimension, i.item_key,
        with_prior.item_key IS NOT NULL AS asked_year_before,
        with_next.item_key IS NOT NULL AS asked_year_after
    FROM dim_survey_item AS i
    LEFT JOIN shared AS with_prior
        ON with_prior.survey_year = i.survey_year AND with_prior.item_key = i.item_key
    LEFT JOIN shared AS with_next
        ON with_next.survey_year = i.survey_year + 1 AND with_next.item_key = i.item_key
    WHERE i.dimension IN ('engagement', 'career_growth')
),
flagged AS (
    SELECT
        a.batch_id, a.row_number, i.dimension, a.answer,
        i.asked_year_before, i.asked_year_after
    FROM stg_survey_answer AS a
    JOIN stg_survey_respondent AS r ON r.batch_id = a.batch_id AND r.row_number = a.row_number
    JOIN items AS i ON i.survey_year = r.survey_year AND i.question_id = a.question_id
)
SELECT
    batch_id, row_number,
    AVG(CASE WHEN dimension = 'engagement' THEN CAST(answer AS DOUBLE PRECISION) END) AS engagement,
    AVG(CASE WHEN dimension = 'career_growth' THEN CAST(answer AS DOUBLE PRECISION) END) AS career_growth,
    SUM(CASE WHEN dimension = 'engagement' AND answer >= 4 THEN 1 ELSE 0 END) AS favorable,
    SUM(CASE WHEN dimension = 'engagement' THEN 1 ELSE 0 END) AS engagement_answers,
    -- over the items also asked the year before (this year's comparable index) and
    -- over those asked again the year after (the base of next year's change)
    AVG(CASE WHEN dimension = 'engagement' AND asked_year_before
        THEN CAST(answer AS DOUBLE PRECISION) END) AS engagement_vs_prior,
    AVG(CASE WHEN dimension = 'engagement' AND asked_year_after
        THEN CAST(answer AS DOUBLE PRECISION) END) AS engagement_vs_next
FROM flagged
GROUP BY batch_id, row_number
