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
--    p_rollover: whether the domain's row was last updated before today; NULL: the caller does
--    not know, the function looks (false skips the look).
CREATE FUNCTION save_answer(
    p_attempt uuid, p_user uuid, p_position int, p_revision int,
    p_choices text[], p_flagged boolean, p_correct boolean, p_add_ms bigint, p_grace_secs int,
    p_learn boolean, p_question uuid, p_rollover boolean,
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

    -- the areas the learner already has, in one statement: each row only if its answer count is
    -- still the one read; the domain's state at the end of its last active day becomes that
    -- day's snapshot when this is its first change of a new day
    WITH t AS (
        SELECT * FROM unnest(p_kinds, p_areas, p_ability, p_variance, p_answered, p_right, p_seen)
                 AS t(k, a, ab, va, an, co, seen)
         WHERE seen >= 0
    ), old AS (
        SELECT m.area_kind, m.area, m.day, m.ability, m.variance, m.answered
          FROM mastery m JOIN t ON m.user_id = p_user AND m.area_kind = t.k AND m.area = t.a
    ), upd AS (
        UPDATE mastery m
           SET ability = t.ab, variance = t.va, answered = t.an, correct = t.co,
               day = CURRENT_DATE, updated_at = now()
          FROM t
         WHERE m.user_id = p_user AND m.area_kind = t.k AND m.area = t.a AND m.answered = t.seen
        RETURNING m.area_kind, m.area
    ), snap AS (
        INSERT INTO mastery_snapshots (user_id, day, domain, ability, variance, answered)
        SELECT p_user, o.day, o.area, o.ability, o.variance, o.answered
          FROM old o JOIN upd u ON u.area_kind = o.area_kind AND u.area = o.area
         WHERE o.area_kind = 'domain' AND o.day < CURRENT_DATE AND p_rollover IS NOT FALSE
        ON CONFLICT DO NOTHING
    )
    SELECT count(*) INTO n FROM upd;
    IF n <> cardinality(array_remove(p_seen, -1)) THEN
        RAISE EXCEPTION 'save_answer: mastery changed since it was read' USING ERRCODE = '40001';
    END IF;
    -- areas new to the learner
    IF -1 = ANY(p_seen) THEN
        INSERT INTO mastery (user_id, area_kind, area, ability, variance, answered, correct, day)
        SELECT p_user, k, a, ab, va, an, co, CURRENT_DATE
          FROM unnest(p_kinds, p_areas, p_ability, p_variance, p_answered, p_right, p_seen)
               AS t(k, a, ab, va, an, co, seen)
         WHERE seen < 0
        ON CONFLICT DO NOTHING;
        GET DIAGNOSTICS n = ROW_COUNT;
        IF n <> cardinality(p_seen) - cardinality(array_remove(p_seen, -1)) THEN
            RAISE EXCEPTION 'save_answer: mastery changed since it was read' USING ERRCODE = '40001';
        END IF;
    END IF;

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
