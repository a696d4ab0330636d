-- Per-question facts an attempt needs without joining the bank, and the moment the page of a
-- question was last shown (server-measured time per question for the pages).
ALTER TABLE attempt_questions
    ADD COLUMN kind text NOT NULL DEFAULT 'single',
    ADD COLUMN difficulty smallint NOT NULL DEFAULT 2,
    ADD COLUMN viewed_at timestamptz;
ALTER TABLE attempts
    ADD COLUMN question_count integer NOT NULL DEFAULT 0,
    ADD COLUMN time_limit_minutes integer;
