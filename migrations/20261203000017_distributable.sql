-- A schema that distributes (issue 19, docs/scaling.md §1, §3.2, §3.3, §5 step 1). Plain
-- PostgreSQL: a single node keeps working, and `exambank citus-distribute` turns a database at
-- this migration into the plan's distributed layout.
--
-- 1. Keys that include the learner. Citus refuses primary and unique keys of a distributed
--    table that do not include its distribution column (user_id for per-learner tables).
--    attempts.id and the token ids stay random v4 UUIDs, unique per learner. A plain index on
--    attempts (id) keeps the few lookups by id alone (an instructor opening a member's attempt,
--    test helpers) from scanning.
ALTER TABLE attempt_questions DROP CONSTRAINT attempt_questions_attempt_id_fkey;
ALTER TABLE attempts DROP CONSTRAINT attempts_pkey;
ALTER TABLE attempts ADD PRIMARY KEY (user_id, id);
CREATE INDEX attempts_id ON attempts (id);

ALTER TABLE attempt_questions DROP CONSTRAINT attempt_questions_pkey;
ALTER TABLE attempt_questions ADD PRIMARY KEY (user_id, attempt_id, position);
-- also enforces that an item's learner is its attempt's, which nothing checked before
ALTER TABLE attempt_questions ADD CONSTRAINT attempt_questions_attempt_fkey
    FOREIGN KEY (user_id, attempt_id) REFERENCES attempts (user_id, id) ON DELETE CASCADE;

-- Tokens carry their user's id (`<user uuid, 32 hex>.<secret>`, services/sessions.rs), so they
-- are found by (user_id, token_hash). Tokens issued before this release have no prefix and are
-- found by their hash alone, through the non-unique index, until they expire (refresh tokens:
-- 30 days); docs/scaling.md §1.3 says to drop that fallback before distributing.
ALTER TABLE refresh_tokens DROP CONSTRAINT refresh_tokens_pkey;
ALTER TABLE refresh_tokens ADD PRIMARY KEY (user_id, id);
ALTER TABLE refresh_tokens DROP CONSTRAINT refresh_tokens_token_hash_key;
ALTER TABLE refresh_tokens ADD CONSTRAINT refresh_tokens_user_hash_key UNIQUE (user_id, token_hash);
CREATE INDEX refresh_tokens_hash ON refresh_tokens (token_hash);
DROP INDEX refresh_tokens_family;
CREATE INDEX refresh_tokens_family ON refresh_tokens (user_id, family_id);

ALTER TABLE web_sessions DROP CONSTRAINT web_sessions_pkey;
ALTER TABLE web_sessions ADD PRIMARY KEY (user_id, id);
ALTER TABLE web_sessions DROP CONSTRAINT web_sessions_token_hash_key;
ALTER TABLE web_sessions ADD CONSTRAINT web_sessions_user_hash_key UNIQUE (user_id, token_hash);
CREATE INDEX web_sessions_hash ON web_sessions (token_hash);

ALTER TABLE password_resets DROP CONSTRAINT password_resets_pkey;
ALTER TABLE password_resets ADD PRIMARY KEY (user_id, id);
ALTER TABLE password_resets DROP CONSTRAINT password_resets_token_hash_key;
ALTER TABLE password_resets ADD CONSTRAINT password_resets_user_hash_key UNIQUE (user_id, token_hash);
CREATE INDEX password_resets_hash ON password_resets (token_hash);

-- 2. The learner lock is a row lock (docs/scaling.md §3.3). Advisory locks live in one node's
--    lock table; a row lock is taken on the node that stores the row, wherever the statement
--    comes from, so answer saves (delegated to a worker on Citus) and finalizers (on the
--    coordinator) always meet. One row per learner, written with the account.
CREATE TABLE learner_locks (
    user_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE
);
INSERT INTO learner_locks (user_id) SELECT id FROM users;

-- 3. save_answer to the rules of docs/scaling.md §3.2, so that one body plans single-shard on
--    PostgreSQL and on Citus (where it is delegated by p_user): the learner's row lock first;
--    every statement filters user_id = p_user; no INSERT inside a CTE (the snapshot of
--    yesterday's mastery is written first, then the update is checked; a raise undoes both).
--    Under the lock this is equivalent to 0016's single statement, and like 0016 it writes the
--    values Rust planned (answered_at stamped or not, the statistics' counts).
CREATE OR REPLACE FUNCTION save_answer(
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
    -- the transaction's now(), as a value, and no timestamptz arithmetic on a column (which is
    -- STABLE): Citus refuses STABLE functions next to column references in an UPDATE ("STABLE
    -- functions used in UPDATE queries cannot be called with column references")
    v_now timestamptz := now();
BEGIN
    -- every save, a flag toggle too, holds the learner's lock until it commits: finalizing takes
    -- the same lock, so no save lands after a result was computed
    PERFORM 1 FROM learner_locks WHERE user_id = p_user FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'save_answer: no learner lock row for %', p_user USING ERRCODE = 'P0002';
    END IF;
    UPDATE attempt_questions a
       SET choices = p_choices, flagged = p_flagged, correct = p_correct, revision = a.revision + 1,
           time_spent_ms = a.time_spent_ms + p_add_ms, viewed_at = NULL,
           answered_at = CASE WHEN p_stamp_answered THEN v_now ELSE a.answered_at END
      FROM attempts t
     WHERE a.attempt_id = p_attempt AND a.user_id = p_user AND a.position = p_position
       AND a.revision = p_revision
       AND t.id = p_attempt AND t.user_id = p_user AND t.status = 'in_progress'
       AND (t.deadline IS NULL OR t.deadline >= v_now - make_interval(secs => p_grace_secs))
    RETURNING a.revision INTO v_revision;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'save_answer: the question or the attempt changed since it was read'
            USING ERRCODE = '40001';
    END IF;
    IF NOT p_learn THEN
        RETURN v_revision;
    END IF;

    -- (a) yesterday's value of each domain row this save moves, once per day
    IF p_rollover IS NOT FALSE THEN
        INSERT INTO mastery_snapshots (user_id, day, domain, ability, variance, answered)
        SELECT m.user_id, m.day, m.area, m.ability, m.variance, m.answered
          FROM mastery m
          JOIN unnest(p_kinds, p_areas, p_seen) AS t(k, a, seen)
            ON m.area_kind = t.k AND m.area = t.a AND m.answered = t.seen
         WHERE m.user_id = p_user AND m.area_kind = 'domain' AND m.day < CURRENT_DATE
           AND t.seen >= 0
        ON CONFLICT DO NOTHING;
    END IF;
    -- (b) the rows it was based on, unchanged since the read
    UPDATE mastery m
       SET ability = t.ab, variance = t.va, answered = t.an, correct = t.co,
           day = CURRENT_DATE, updated_at = v_now
      FROM unnest(p_kinds, p_areas, p_ability, p_variance, p_answered, p_right, p_seen)
           AS t(k, a, ab, va, an, co, seen)
     WHERE m.user_id = p_user AND m.area_kind = t.k AND m.area = t.a
       AND t.seen >= 0 AND m.answered = t.seen;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n <> cardinality(array_remove(p_seen, -1)) THEN
        RAISE EXCEPTION 'save_answer: mastery changed since it was read' USING ERRCODE = '40001';
    END IF;
    -- (c) the areas it is the first answer of
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

    -- (d) the answer statistics and the FSRS card
    IF p_stats_seen IS NULL THEN
        INSERT INTO user_question_stats (user_id, question_id, last_seen_at, last_answered_at, last_correct,
                                         times_answered, times_correct, stability, card_difficulty, due_at,
                                         last_review_at, reps, lapses)
        VALUES (p_user, p_question, v_now, v_now, p_correct, p_times_answered, p_correct_add,
                p_stability, p_card_difficulty, p_due_at, v_now, p_reps, p_lapses)
        ON CONFLICT DO NOTHING;
    ELSE
        UPDATE user_question_stats
           SET last_answered_at = v_now, last_correct = p_correct, times_answered = p_times_answered,
               times_correct = times_correct + p_correct_add,
               stability = p_stability, card_difficulty = p_card_difficulty, due_at = p_due_at,
               last_review_at = v_now, reps = p_reps, lapses = p_lapses
         WHERE user_id = p_user AND question_id = p_question AND times_answered = p_stats_seen;
    END IF;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n <> 1 THEN
        RAISE EXCEPTION 'save_answer: the answer statistics changed since they were read' USING ERRCODE = '40001';
    END IF;
    RETURN v_revision;
END
$$;

-- save_answers (a batch of many learners: plain PostgreSQL only, docs/scaling.md §3.1) takes
-- the same row locks, in user_id order, instead of the advisory locks. Only its first
-- statement changes, so it is edited in place rather than restated; the migration fails if
-- the statement it replaces is not there.
DO $do$
DECLARE
    def text;
    old_lock constant text := 'PERFORM pg_advisory_xact_lock(k)
       FROM (SELECT DISTINCT learner_key(u) AS k FROM unnest(i_user) AS u ORDER BY 1) AS keys;';
    new_lock constant text := 'PERFORM 1 FROM learner_locks
     WHERE user_id = ANY(i_user) ORDER BY user_id FOR UPDATE;';
BEGIN
    SELECT pg_get_functiondef(p.oid) INTO def
      FROM pg_proc p WHERE p.proname = 'save_answers' AND p.pronamespace = 'public'::regnamespace;
    IF def IS NULL OR position(old_lock IN def) = 0 THEN
        RAISE EXCEPTION 'save_answers does not take the advisory locks this migration replaces';
    END IF;
    EXECUTE replace(def, old_lock, new_lock);
END
$do$;

DROP FUNCTION learner_key(uuid);

-- 4. No triggers (docs/scaling.md §1.4): Citus refuses to distribute tables that have them,
--    and on a reference table a trigger would fire once per placement. Their work moves into
--    the statements that cause it: updated_at in the SET of every update (db/users.rs,
--    db/questions.rs, db/calibration.rs); questions.exam_domain and .pilot written by the
--    statements that write a current version; bank_cells recounted by
--    db::catalog::refresh_bank_cells at the end of every transaction that writes the bank.
DROP TRIGGER users_updated_at ON users;
DROP TRIGGER questions_updated_at ON questions;
DROP TRIGGER question_versions_exam_domain ON question_versions;
DROP TRIGGER questions_exam_domain ON questions;
DROP TRIGGER questions_bank_cells ON questions;
DROP FUNCTION set_updated_at();
DROP FUNCTION questions_exam_domain_from_version();
DROP FUNCTION questions_exam_domain_on_current();
DROP FUNCTION bank_cells_count();
