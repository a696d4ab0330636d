-- New mastery rows start at the model's prior (see docs/mastery.md): mu 0, variance 1.5.
ALTER TABLE mastery ALTER COLUMN variance SET DEFAULT 1.5;
CREATE INDEX user_question_stats_mistakes ON user_question_stats (user_id, last_answered_at DESC) WHERE last_correct = false;
