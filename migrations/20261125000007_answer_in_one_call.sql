-- Answer saves in one database call (issue 6: 3000 saves/s on two cores).
--
-- 1. A mastery row remembers the day of its last update. The first update on a later day
--    first copies the row's state into mastery_snapshots as that day's closing state, so the
--    daily history costs one row per learner, domain and active day instead of a write per answer.
--    History is the snapshots plus the live rows (each standing for its own day).
ALTER TABLE mastery ADD COLUMN day date NOT NULL DEFAULT CURRENT_DATE;
UPDATE mastery SET day = updated_at::date;
DELETE FROM mastery_snapshots s USING mastery m
 WHERE m.user_id = s.user_id AND m.area_kind = 'domain' AND m.area = s.domain AND s.day >= m.day;

-- 2. One row per learner and question holds both the answer statistics and the FSRS card
--    (they were two rows written by every answer).
ALTER TABLE user_question_stats
    ADD COLUMN stability       double precision,
    ADD COLUMN card_difficulty double precision,
    ADD COLUMN due_at          timestamptz,
    ADD COLUMN last_review_at  timestamptz,
    ADD COLUMN reps            integer NOT NULL DEFAULT 0,
    ADD COLUMN lapses          integer NOT NULL DEFAULT 0;
INSERT INTO user_question_stats (user_id, question_id, stability, card_difficulty, due_at, last_review_at, reps, lapses)
SELECT user_id, question_id, stability, difficulty, due_at, last_review_at, reps, lapses FROM review_cards
ON CONFLICT (user_id, question_id) DO UPDATE SET stability = EXCLUDED.stability,
    card_difficulty = EXCLUDED.card_difficulty, due_at = EXCLUDED.due_at,
    last_review_at = EXCLUDED.last_review_at, reps = EXCLUDED.reps, lapses = EXCLUDED.lapses;
DROP TABLE review_cards;
CREATE INDEX user_question_stats_due ON user_question_stats (user_id, due_at) WHERE due_at IS NOT NULL;

-- 3. save_answer: everything one answer writes, atomically, with optimistic checks. The caller
--    read the attempt question (revision), the learner's mastery rows (answered counts) and the
--    statistics-and-card row (times answered) without locks, computed the new state, and passes
--    it here with what it read. When anything changed in between, or the attempt is no longer
--    open, nothing is written and SQLSTATE 40001 is raised: the caller reads again and retries
--    (after a few tries queued on the learner's advisory lock).
--    Finalization raises every question's revision under the attempt's row lock before it reads
--    the answers, so an answer either lands before the result is computed or is refused.
--    p_seen[i] is the `answered` count read for area i, or -1 when the learner had no row.
--    p_rollover: the domain's row was last updated before today (NULL: the caller does not know).
CREATE FUNCTION save_answer(
    p_attempt uuid, p_user uuid, p_position int, p_revision int,
    p_choices text[], p_flagged boolean, p_correct boolean, p_add_ms bigint, p_grace_secs int,
    p_learn boolean, p_question uuid, p_domain text, p_rollover boolean,
    p_kinds text[], p_areas text[], p_ability float8[], p_variance float8[],
    p_answered int[], p_right int[], p_seen int[],
    p_stability float8, p_card_difficulty float8, p_due_at timestamptz, p_reps int, p_lapses int,
    p_stats_seen int
) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
    v_revision int;
    n int;
BEGIN
    UPDATE attempt_questions a
       SET choices = p_choices, flagged = p_flagged, correct = p_correct, revision = a.revision + 1,
           time_spent_ms = a.time_spent_ms + p_add_ms, viewed_at = NULL,
           answered_at = CASE WHEN cardinality(p_choices) > 0 THEN now() ELSE a.answered_at END
      FROM attempts t
     WHERE a.attempt_id = p_attempt AND a.user_id = p_user AND a.position = p_position
       AND a.revision = p_revision
       AND t.id = p_attempt AND t.user_id = p_user AND t.status = 'in_progress'
       AND (t.deadline IS NULL OR t.deadline + make_interval(secs => p_grace_secs) >= now())
    RETURNING a.revision INTO v_revision;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'save_answer: the question or the attempt changed since it was read'
            USING ERRCODE = '40001';
    END IF;
    IF NOT p_learn THEN
        RETURN v_revision;
    END IF;

    IF p_rollover IS NOT FALSE THEN  -- true, or not known to the caller
        -- the domain's state at the end of its last active day, before today's first change
        INSERT INTO mastery_snapshots (user_id, day, domain, ability, variance, answered)
        SELECT user_id, day, area, ability, variance, answered FROM mastery
         WHERE user_id = p_user AND area_kind = 'domain' AND area = p_domain AND day < CURRENT_DATE
        ON CONFLICT DO NOTHING;
    END IF;

    -- one row at a time, in the caller's (sorted) order: concurrent answers cannot deadlock
    FOR i IN 1 .. coalesce(cardinality(p_kinds), 0) LOOP
        IF p_seen[i] < 0 THEN
            INSERT INTO mastery (user_id, area_kind, area, ability, variance, answered, correct, day)
            VALUES (p_user, p_kinds[i], p_areas[i], p_ability[i], p_variance[i], p_answered[i], p_right[i], CURRENT_DATE)
            ON CONFLICT DO NOTHING;
        ELSE
            UPDATE mastery
               SET ability = p_ability[i], variance = p_variance[i], answered = p_answered[i],
                   correct = p_right[i], day = CURRENT_DATE, updated_at = now()
             WHERE user_id = p_user AND area_kind = p_kinds[i] AND area = p_areas[i]
               AND answered = p_seen[i];
        END IF;
        GET DIAGNOSTICS n = ROW_COUNT;
        IF n <> 1 THEN
            RAISE EXCEPTION 'save_answer: mastery changed since it was read' USING ERRCODE = '40001';
        END IF;
    END LOOP;

    IF p_stats_seen IS NULL THEN
        INSERT INTO user_question_stats (user_id, question_id, last_seen_at, last_answered_at, last_correct,
                                         times_answered, times_correct, stability, card_difficulty, due_at,
                                         last_review_at, reps, lapses)
        VALUES (p_user, p_question, now(), now(), p_correct, 1, CASE WHEN p_correct THEN 1 ELSE 0 END,
                p_stability, p_card_difficulty, p_due_at, now(), p_reps, p_lapses)
        ON CONFLICT DO NOTHING;
    ELSE
        UPDATE user_question_stats
           SET last_answered_at = now(), last_correct = p_correct, times_answered = times_answered + 1,
               times_correct = times_correct + CASE WHEN p_correct THEN 1 ELSE 0 END,
               stability = p_stability, card_difficulty = p_card_difficulty, due_at = p_due_at,
               last_review_at = now(), reps = p_reps, lapses = p_lapses
         WHERE user_id = p_user AND question_id = p_question AND times_answered = p_stats_seen;
    END IF;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n <> 1 THEN
        RAISE EXCEPTION 'save_answer: the answer statistics changed since they were read' USING ERRCODE = '40001';
    END IF;
    RETURN v_revision;
END
$$;
