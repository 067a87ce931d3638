-- What moves engagement (warehouse.md v2), whole organisation only: for each item
-- outside the engagement dimension, the Pearson correlation between its answer and the
-- respondent's engagement score, over those who answered both (null under 30 of them),
-- with its 95% interval by Fisher's z from the unrounded correlation (v3): an item whose
-- interval holds zero is not clear, and is not shown as a driver.
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
            THEN CORR(answer, score) END AS r,
        ROUND(CAST((AVG(answer) - 1) * 25 AS NUMERIC(18, 6)), 1) AS mean_score
    FROM paired
    GROUP BY survey_year, item_key, dimension, item_text
),
interval AS (
    -- Fisher's z: atanh(r) -+ 1.959964 / sqrt(n - 3), back through tanh (written with
    -- LN and EXP, which both engines have).
    SELECT
        m.*,
        CASE WHEN m.r IS NOT NULL AND ABS(m.r) < 1 THEN
            0.5 * LN((1 + m.r) / (1 - m.r)) - 1.959964 / SQRT(m.respondents - 3) END AS z_low,
        CASE WHEN m.r IS NOT NULL AND ABS(m.r) < 1 THEN
            0.5 * LN((1 + m.r) / (1 - m.r)) + 1.959964 / SQRT(m.respondents - 3) END AS z_high
    FROM measured AS m
),
bounds AS (
    SELECT
        i.*,
        (EXP(2 * z_low) - 1) / (EXP(2 * z_low) + 1) AS ci_low,
        (EXP(2 * z_high) - 1) / (EXP(2 * z_high) + 1) AS ci_high
    FROM interval AS i
)
SELECT
    m.survey_year,
    m.item_key,
    m.dimension,
    m.item_text,
    m.respondents,
    CASE WHEN NOT e.suppressed THEN ROUND(CAST(m.r AS NUMERIC(18, 6)), 3) END AS impact,
    CASE WHEN e.suppressed THEN NULL ELSE m.mean_score END AS mean_score,
    CASE WHEN NOT e.suppressed THEN ROUND(CAST(m.ci_low AS NUMERIC(18, 6)), 3) END
        AS impact_ci_low,
    CASE WHEN NOT e.suppressed THEN ROUND(CAST(m.ci_high AS NUMERIC(18, 6)), 3) END
        AS impact_ci_high,
    CASE
        WHEN e.suppressed OR m.r IS NULL THEN NULL
        WHEN ABS(m.r) = 1 THEN TRUE
        ELSE m.ci_low > 0 OR m.ci_high < 0
    END AS clear
FROM bounds AS m
JOIN mart_engagement AS e
    ON e.survey_year = m.survey_year AND e.group_by = 'ALL' AND e.group_value = 'ALL'
