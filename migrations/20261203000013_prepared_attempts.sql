-- Exam day for a big cohort (issue 18).
--
-- 1. Prepared attempts. A cohort exam's attempts are prepared ahead of the opening time (the
--    periodic job, and at join time for late members): per-learner order and option shuffle,
--    items written, no clock running. Starting then only stamps started_at and the deadline.
--    A prepared attempt is invisible to its learner until it is started.
ALTER TABLE attempts DROP CONSTRAINT attempts_status_check;
ALTER TABLE attempts ADD CONSTRAINT attempts_status_check
    CHECK (status IN ('prepared', 'in_progress', 'submitted', 'expired'));

-- 2. Finalizing no longer raises every item's revision to fence off answer saves in flight
--    (65 row versions per attempt, 130,000 for a cohort of 2,000 at its deadline). It takes the
--    learner's advisory lock instead, which every save holds until it commits: a save either
--    committed before the attempt was finalized (and is scored), or it takes the lock after and
--    its statement, which runs after the lock is granted, sees the attempt closed. save_answers
--    already locks every learner of its batch; save_answer locked only when it taught the
--    learner model, and now always does.
CREATE OR REPLACE FUNCTION save_answer(
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
    -- every save, a flag toggle too, holds the learner's lock until it commits: finalizing takes
    -- the same lock, so no save lands after a result was computed
    PERFORM pg_advisory_xact_lock(learner_key(p_user));
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
