-- Every answer rewrites one statistics-and-card row, one question row of the attempt and a few
-- mastery rows. Keep those updates HOT (no index entries to add, pages pruned in place):
--  * leave room on each page for the new row versions;
--  * drop the two secondary indexes of user_question_stats on columns every answer changes
--    (due_at, last_answered_at). The due-review and mistakes lists now read the learner's rows
--    through the primary key (user_id, question_id): at most one row per question of the bank,
--    read when a learner opens those lists, against an index write on every answer.
ALTER TABLE user_question_stats SET (fillfactor = 70);
ALTER TABLE attempt_questions SET (fillfactor = 80);
ALTER TABLE mastery SET (fillfactor = 70);
DROP INDEX user_question_stats_due;
DROP INDEX user_question_stats_mistakes;
