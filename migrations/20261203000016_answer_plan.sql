-- The answer's rules written once (issue 13): Rust plans an answer (domain::answer::AnswerPlan)
-- and these functions only check the optimistic guards and write the values they are given.
--
-- What they used to derive is now passed in:
--   * p_stamp_answered / i_stamp_answered: whether the write stamps answered_at (the plan says
--     so when the answer has choices; the time itself is the database's now());
--   * p_times_answered / i_times_answered: the statistics row's times_answered after the
--     answer (the row is written only while it still holds p_stats_seen, so this is exact);
--   * p_correct_add / i_correct_add: what the answer adds to times_correct.
-- The guards are unchanged: the question's revision, the attempt open and within the grace
-- window of its deadline, the learner's advisory lock, the mastery and statistics rows as
-- read. Names stay save_answer / save_answers, and p_user stays a parameter (the Citus
-- distribution argument).

DROP FUNCTION save_answer(uuid, uuid, int, int, text[], boolean, boolean, bigint, int, boolean,
    uuid, boolean, text[], text[], float8[], float8[], int[], int[], int[], float8, float8,
    timestamptz, int, int, int);
DROP FUNCTION save_answers(uuid[], uuid[], int[], int[], boolean[], boolean[], bigint[], int[],
    boolean[], uuid[], boolean[], float8[], float8[], timestamptz[], int[], int[], int[], int[],
    text[], int[], text[], text[], float8[], float8[], int[], int[], int[]);

CREATE FUNCTION save_answer(
    p_attempt uuid, p_user uuid, p_position int, p_revision int,
    p_choices text[], p_flagged boolean, p_correct boolean, p_add_ms bigint, p_stamp_answered boolean,
    p_grace_secs int,
    p_learn boolean, p_question uuid, p_rollover boolean,
    p_kinds text[], p_areas text[], p_ability float8[], p_variance float8[],
    p_answered int[], p_right int[], p_seen int[],
    p_stability float8, p_card_difficulty float8, p_due_at timestamptz, p_reps int, p_lapses int,
    p_stats_seen int, p_times_answered int, p_correct_add int
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
           answered_at = CASE WHEN p_stamp_answered THEN now() ELSE a.answered_at END
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
        VALUES (p_user, p_question, now(), now(), p_correct, p_times_answered, p_correct_add,
                p_stability, p_card_difficulty, p_due_at, now(), p_reps, p_lapses)
        ON CONFLICT DO NOTHING;
    ELSE
        UPDATE user_question_stats
           SET last_answered_at = now(), last_correct = p_correct, times_answered = p_times_answered,
               times_correct = times_correct + p_correct_add,
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

CREATE FUNCTION save_answers(
    i_attempt uuid[], i_user uuid[], i_position int[], i_revision int[], i_flagged boolean[],
    i_correct boolean[], i_add_ms bigint[], i_stamp_answered boolean[], i_grace_secs int[],
    i_learn boolean[], i_question uuid[], i_rollover boolean[], i_stability float8[],
    i_card_difficulty float8[], i_due_at timestamptz[], i_reps int[], i_lapses int[],
    i_stats_seen int[], i_times_answered int[], i_correct_add int[],
    c_item int[], c_choice text[],
    a_item int[], a_kind text[], a_area text[], a_ability float8[], a_variance float8[],
    a_answered int[], a_right int[], a_seen int[]
) RETURNS TABLE (item int, revision int)
LANGUAGE plpgsql AS $$
DECLARE
    v_items int[];
    v_revisions int[];
    v_updated int;
    v_inserted int;
    v_stats int;
    v_want_updated int;
    v_want_inserted int;
    v_want_stats int;
BEGIN
    -- the learners' locks, in key order (two batches never wait for each other in a circle);
    -- the statement below then sees everything their earlier holders committed
    PERFORM pg_advisory_xact_lock(k)
       FROM (SELECT DISTINCT learner_key(u) AS k FROM unnest(i_user) AS u ORDER BY 1) AS keys;

    WITH it AS (
        SELECT * FROM unnest(i_attempt, i_user, i_position, i_revision, i_flagged, i_correct,
                             i_add_ms, i_stamp_answered, i_grace_secs, i_learn, i_question,
                             i_rollover, i_stability, i_card_difficulty, i_due_at, i_reps,
                             i_lapses, i_stats_seen, i_times_answered, i_correct_add)
                      WITH ORDINALITY
                 AS it(attempt, usr, pos, rev, flagged, correct, add_ms, stamp_answered, grace,
                       learn, question, rollover, stability, card_difficulty, due_at, reps,
                       lapses, stats_seen, times_answered, correct_add, idx)
    ), ar AS (
        SELECT * FROM unnest(a_item, a_kind, a_area, a_ability, a_variance, a_answered, a_right, a_seen)
                 AS ar(idx, k, a, ab, va, an, co, seen)
    ), ch AS (
        SELECT c.idx, array_agg(c.choice ORDER BY c.ord) AS choices
          FROM unnest(c_item, c_choice) WITH ORDINALITY AS c(idx, choice, ord)
         GROUP BY c.idx
    ), firsts AS (
        -- one answer per learner: a later one of the same learner is left out
        SELECT DISTINCT ON (it.usr) it.idx FROM it ORDER BY it.usr, it.idx
    ), stale AS MATERIALIZED (
        -- answers based on a mastery row that has changed (or come into being) since the read;
        -- scalar subqueries, so that each is one primary-key lookup whatever the plan, and
        -- materialized, so that the lookups run once per area and not once per answer
        SELECT DISTINCT ar.idx
          FROM ar JOIN it ON it.idx = ar.idx
         WHERE (SELECT m.answered FROM mastery m
                 WHERE m.user_id = it.usr AND m.area_kind = ar.k AND m.area = ar.a)
               IS DISTINCT FROM (CASE WHEN ar.seen >= 0 THEN ar.seen END)
    ), ok AS (
        -- the answers whose reads still hold (times_answered is never null: no row reads null)
        SELECT it.*, coalesce(ch.choices, '{}') AS choices
          FROM it
          JOIN firsts f ON f.idx = it.idx
          LEFT JOIN ch ON ch.idx = it.idx
         WHERE NOT EXISTS (SELECT 1 FROM stale x WHERE x.idx = it.idx)
           AND (NOT it.learn
                OR (SELECT s.times_answered FROM user_question_stats s
                     WHERE s.user_id = it.usr AND s.question_id = it.question)
                   IS NOT DISTINCT FROM it.stats_seen)
    ), aq AS (
        UPDATE attempt_questions a
           SET choices = ok.choices, flagged = ok.flagged, correct = ok.correct,
               revision = a.revision + 1, time_spent_ms = a.time_spent_ms + ok.add_ms,
               viewed_at = NULL,
               answered_at = CASE WHEN ok.stamp_answered THEN now() ELSE a.answered_at END
          FROM ok JOIN attempts t ON t.id = ok.attempt AND t.user_id = ok.usr
         WHERE a.attempt_id = ok.attempt AND a.user_id = ok.usr AND a.position = ok.pos
           AND a.revision = ok.rev AND t.status = 'in_progress'
           AND (t.deadline IS NULL OR t.deadline + make_interval(secs => ok.grace) >= now())
        RETURNING ok.idx, a.revision
    ), learned AS (
        SELECT ok.* FROM ok JOIN aq ON aq.idx = ok.idx WHERE ok.learn
    ), seen_areas AS (
        SELECT l.usr, l.rollover, ar.* FROM ar JOIN learned l ON l.idx = ar.idx
    ), old AS (
        SELECT m.user_id, m.area_kind, m.area, m.day, m.ability, m.variance, m.answered, s.rollover
          FROM mastery m
          JOIN seen_areas s ON m.user_id = s.usr AND m.area_kind = s.k AND m.area = s.a
         WHERE s.seen >= 0
    ), upd AS (
        UPDATE mastery m
           SET ability = s.ab, variance = s.va, answered = s.an, correct = s.co,
               day = CURRENT_DATE, updated_at = now()
          FROM seen_areas s
         WHERE m.user_id = s.usr AND m.area_kind = s.k AND m.area = s.a AND s.seen >= 0
           AND m.answered = s.seen
        RETURNING m.user_id, m.area_kind, m.area
    ), snap AS (
        INSERT INTO mastery_snapshots (user_id, day, domain, ability, variance, answered)
        SELECT o.user_id, o.day, o.area, o.ability, o.variance, o.answered
          FROM old o
          JOIN upd u ON u.user_id = o.user_id AND u.area_kind = o.area_kind AND u.area = o.area
         WHERE o.area_kind = 'domain' AND o.day < CURRENT_DATE AND o.rollover IS NOT FALSE
        ON CONFLICT DO NOTHING
    ), ins AS (
        INSERT INTO mastery (user_id, area_kind, area, ability, variance, answered, correct, day)
        SELECT s.usr, s.k, s.a, s.ab, s.va, s.an, s.co, CURRENT_DATE
          FROM seen_areas s WHERE s.seen < 0
        ON CONFLICT DO NOTHING
        RETURNING 1
    ), st_new AS (
        INSERT INTO user_question_stats (user_id, question_id, last_seen_at, last_answered_at,
                                         last_correct, times_answered, times_correct, stability,
                                         card_difficulty, due_at, last_review_at, reps, lapses)
        SELECT l.usr, l.question, now(), now(), l.correct, l.times_answered, l.correct_add,
               l.stability, l.card_difficulty, l.due_at, now(), l.reps, l.lapses
          FROM learned l WHERE l.stats_seen IS NULL
        ON CONFLICT DO NOTHING
        RETURNING 1
    ), st_old AS (
        UPDATE user_question_stats s
           SET last_answered_at = now(), last_correct = l.correct,
               times_answered = l.times_answered,
               times_correct = s.times_correct + l.correct_add,
               stability = l.stability, card_difficulty = l.card_difficulty, due_at = l.due_at,
               last_review_at = now(), reps = l.reps, lapses = l.lapses
          FROM learned l
         WHERE l.stats_seen IS NOT NULL AND s.user_id = l.usr AND s.question_id = l.question
           AND s.times_answered = l.stats_seen
        RETURNING 1
    )
    SELECT (SELECT array_agg(aq.idx::int ORDER BY aq.idx) FROM aq),
           (SELECT array_agg(aq.revision ORDER BY aq.idx) FROM aq),
           (SELECT count(*) FROM upd),
           (SELECT count(*) FROM ins),
           (SELECT count(*) FROM st_new) + (SELECT count(*) FROM st_old),
           (SELECT count(*) FROM seen_areas WHERE seen >= 0),
           (SELECT count(*) FROM seen_areas WHERE seen < 0),
           (SELECT count(*) FROM learned)
      INTO v_items, v_revisions, v_updated, v_inserted, v_stats,
           v_want_updated, v_want_inserted, v_want_stats;

    IF v_updated <> v_want_updated OR v_inserted <> v_want_inserted OR v_stats <> v_want_stats THEN
        RAISE EXCEPTION 'save_answers: the learners'' rows moved under their locks'
            USING ERRCODE = '40001';
    END IF;
    RETURN QUERY SELECT * FROM unnest(v_items, v_revisions);
END
$$;
