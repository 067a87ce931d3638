-- What moves engagement (warehouse.md v2), whole organisation only: for each item
-- outside the engagement dimension, the Pearson correlation between its answer and the
-- respondent's engagement score, over those who answered both (null under 30 of them).
WITH items AS (
    SELECT a.batch_id, a.row_number, r.survey_year, i.item_key, i.dimension, i.item_text,
           CAST(a.answer AS DOUBLE PRECISION) AS answer
    FROM stg_survey_answer AS a
    JOIN stg_survey_respondent AS r ON r.batch_id = a.batch_id AND r.row_number = a.row_number
    JOIN dim_survey_item AS i ON i.survey_year = r.survey_year AND i.question_id = a.question_id
),
engagement AS (
    SELECT batch_id, row_number, AVG(answer) AS score
    FROM items
    WHERE dimension = 'engagement'
    GROUP BY batch_id, row_number
),
paired AS (
    SELECT i.survey_year, i.item_key, i.dimension, i.item_text, i.answer, e.score
    FROM items AS i
    JOIN engagement AS e ON e.batch_id = i.batch_id AND e.row_number = i.row_number
    WHERE i.dimension <> 'engagement'
),
measured AS (
    SELECT
        survey_year, item_key, dimension, item_text,
        CAST(COUNT(*) AS INTEGER) AS respondents,
        CASE WHEN COUNT(*) >= 30 AND STDDEV_POP(answer) > 0 AND STDDEV_POP(score) > 0
            THEN ROUND(CAST(CORR(answer, score) AS NUMERIC(18, 6)), 3) END AS impact,
        ROUND(CAST((AVG(answer) - 1) * 25 AS NUMERIC(18, 6)), 1) AS mean_score
    FROM paired
    GROUP BY survey_year, item_key, dimension, item_text
)
SELECT
    m.survey_year,
    m.item_key,
    m.dimension,
    m.item_text,
    m.respondents,
    CASE WHEN e.suppressed THEN NULL ELSE m.impact END AS impact,
    CASE WHEN e.suppressed THEN NULL ELSE m.mean_score END AS mean_score
FROM measured AS m
JOIN mart_engagement AS e
    ON e.survey_year = m.survey_year AND e.group_by = 'ALL' AND e.group_value = 'ALL'
