-- One row per survey year and question (warehouse.md v2). Two questions are the same
-- item when their texts are equal once trimmed, lower-cased and with runs of whitespace
-- collapsed to one space; the item_key is a hash of that text, so it is the same in
-- every year whatever the question's number.
SELECT
    survey_year,
    question_id,
    dimension,
    text AS item_text,
    SUBSTR(MD5(COALESCE(
        LOWER(TRIM(REGEXP_REPLACE(text, '\s+', ' ', 'g'))),
        -- no text: an item of its own year only
        'no text ' || CAST(survey_year AS TEXT) || ' ' || question_id
    )), 1, 12) AS item_key
FROM stg_survey_item
