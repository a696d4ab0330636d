-- exambank schema: the whole domain model of SPEC §2.
-- Per-learner tables (attempts, attempt_questions, mastery, reviews, ...) carry user_id and are
-- only queried with it, so they can later be distributed by it (SPEC §6).

CREATE EXTENSION IF NOT EXISTS citext;

CREATE OR REPLACE FUNCTION set_updated_at() RETURNS trigger AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

-- Accounts ------------------------------------------------------------------------------------

CREATE TABLE users (
    id            uuid PRIMARY KEY,
    email         citext NOT NULL UNIQUE,
    display_name  text NOT NULL,
    role          text NOT NULL DEFAULT 'learner' CHECK (role IN ('learner', 'instructor', 'admin')),
    password_hash text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER users_updated_at BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- Opaque refresh tokens, stored as SHA-256 hashes. A family is one login; reuse of a spent
-- token revokes the whole family.
CREATE TABLE refresh_tokens (
    id          uuid PRIMARY KEY,
    user_id     uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    family_id   uuid NOT NULL,
    token_hash  bytea NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    revoked_at  timestamptz
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);

-- Fixed-window counters shared by every server process (login and registration limits).
CREATE TABLE rate_limits (
    key          text PRIMARY KEY,
    window_start timestamptz NOT NULL,
    hits         integer NOT NULL
);

-- The bank -------------------------------------------------------------------------------------

CREATE TABLE domains (
    slug     text PRIMARY KEY,
    name     text NOT NULL,
    weight   double precision NOT NULL CHECK (weight >= 0),
    position integer NOT NULL DEFAULT 0
);

-- One row per question: its identity and a denormalised copy of the current version's
-- filterable fields, so browse, search and exam assembly read one indexed table.
CREATE TABLE questions (
    id              uuid PRIMARY KEY,
    slug            text NOT NULL UNIQUE,
    domain          text NOT NULL REFERENCES domains(slug),
    current_version integer NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('single', 'multiple')),
    difficulty      smallint NOT NULL CHECK (difficulty BETWEEN 1 AND 3),
    tags            text[] NOT NULL DEFAULT '{}',
    stem            text NOT NULL,
    search          tsvector GENERATED ALWAYS AS (to_tsvector('english', stem)) STORED,
    -- A uniform random key: sampling walks the index from a random point instead of scanning.
    sample_key      double precision NOT NULL DEFAULT random(),
    retired_at      timestamptz,
    -- 'seed' questions are owned by the bank files (re-seeding may retire them); 'author' and
    -- 'import' questions are owned by the authoring API and never touched by seeding.
    origin          text NOT NULL DEFAULT 'seed' CHECK (origin IN ('seed', 'author', 'import')),
    created_by      uuid REFERENCES users(id) ON DELETE SET NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER questions_updated_at BEFORE UPDATE ON questions FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE INDEX questions_sample ON questions (domain, sample_key) WHERE retired_at IS NULL;
CREATE INDEX questions_sample_difficulty ON questions (domain, difficulty, sample_key) WHERE retired_at IS NULL;
CREATE INDEX questions_search ON questions USING gin (search);
CREATE INDEX questions_tags ON questions USING gin (tags);
CREATE INDEX questions_browse ON questions (domain, difficulty, id) WHERE retired_at IS NULL;

-- Immutable versions: an attempt refers to (question_id, version) and always shows and scores
-- exactly what it was built with.
CREATE TABLE question_versions (
    question_id   uuid NOT NULL REFERENCES questions(id),
    version       integer NOT NULL CHECK (version >= 1),
    domain        text NOT NULL REFERENCES domains(slug),
    kind          text NOT NULL CHECK (kind IN ('single', 'multiple')),
    difficulty    smallint NOT NULL CHECK (difficulty BETWEEN 1 AND 3),
    tags          text[] NOT NULL DEFAULT '{}',
    stem          text NOT NULL,
    -- [{"id": "...", "text": "...", "correct": bool, "rationale": "..."}] in authored order
    options       jsonb NOT NULL,
    explanation   text NOT NULL,
    exam_domain   text NOT NULL CHECK (exam_domain IN ('development', 'security', 'deployment', 'troubleshooting')),
    "references"  text[] NOT NULL DEFAULT '{}',
    last_verified date NOT NULL,
    note          text,
    content_hash  text NOT NULL,
    created_by    uuid REFERENCES users(id) ON DELETE SET NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (question_id, version)
);

CREATE TABLE question_reports (
    id           uuid PRIMARY KEY,
    question_id  uuid NOT NULL REFERENCES questions(id),
    version      integer NOT NULL,
    user_id      uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind         text NOT NULL CHECK (kind IN ('wrong_answer', 'outdated', 'unclear', 'other')),
    message      text NOT NULL,
    status       text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
    resolution   text,
    resolved_by  uuid REFERENCES users(id) ON DELETE SET NULL,
    resolved_at  timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX question_reports_open ON question_reports (question_id) WHERE status = 'open';

CREATE TABLE blueprints (
    slug               text PRIMARY KEY,
    name               text NOT NULL,
    question_count     integer NOT NULL CHECK (question_count > 0),
    time_limit_minutes integer CHECK (time_limit_minutes > 0),
    pass_mark          integer NOT NULL,
    scaled             boolean NOT NULL DEFAULT true,
    shuffle_questions  boolean NOT NULL DEFAULT true,
    shuffle_options    boolean NOT NULL DEFAULT true,
    -- {"iam": 0.15, ...}; relative weights
    domain_weights     jsonb NOT NULL,
    position           integer NOT NULL DEFAULT 0
);

-- Cohorts --------------------------------------------------------------------------------------

CREATE TABLE cohorts (
    id          uuid PRIMARY KEY,
    name        text NOT NULL,
    owner_id    uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    join_code   text NOT NULL UNIQUE,
    leaderboard boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX cohorts_owner ON cohorts (owner_id);

CREATE TABLE cohort_members (
    cohort_id  uuid NOT NULL REFERENCES cohorts(id) ON DELETE CASCADE,
    user_id    uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    joined_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (cohort_id, user_id)
);
CREATE INDEX cohort_members_user ON cohort_members (user_id);

CREATE TABLE cohort_exams (
    id         uuid PRIMARY KEY,
    cohort_id  uuid NOT NULL REFERENCES cohorts(id) ON DELETE CASCADE,
    blueprint  text NOT NULL REFERENCES blueprints(slug),
    opens_at   timestamptz NOT NULL,
    closes_at  timestamptz NOT NULL,
    shuffle    boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK (closes_at > opens_at)
);
CREATE INDEX cohort_exams_cohort ON cohort_exams (cohort_id);

-- The question set drawn once when the exam is scheduled, with versions fixed at that moment.
CREATE TABLE cohort_exam_questions (
    exam_id     uuid NOT NULL REFERENCES cohort_exams(id) ON DELETE CASCADE,
    position    integer NOT NULL,
    question_id uuid NOT NULL,
    version     integer NOT NULL,
    PRIMARY KEY (exam_id, position),
    FOREIGN KEY (question_id, version) REFERENCES question_versions(question_id, version)
);

CREATE TABLE cohort_exam_extensions (
    exam_id    uuid NOT NULL REFERENCES cohort_exams(id) ON DELETE CASCADE,
    user_id    uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    minutes    integer NOT NULL CHECK (minutes >= 0),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (exam_id, user_id)
);

-- Attempts -------------------------------------------------------------------------------------

CREATE TABLE attempts (
    id             uuid PRIMARY KEY,
    user_id        uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    mode           text NOT NULL CHECK (mode IN ('exam', 'practice')),
    blueprint      text REFERENCES blueprints(slug),
    cohort_exam_id uuid REFERENCES cohort_exams(id),
    status         text NOT NULL DEFAULT 'in_progress' CHECK (status IN ('in_progress', 'submitted', 'expired')),
    started_at     timestamptz NOT NULL DEFAULT now(),
    deadline       timestamptz,
    finalized_at   timestamptz,
    pass_mark      integer NOT NULL DEFAULT 720,
    scaled         boolean NOT NULL DEFAULT true,
    -- the custom mix or practice source the attempt was built from, and what assembly reported
    spec           jsonb NOT NULL DEFAULT '{}',
    assembly       jsonb NOT NULL DEFAULT '{}',
    -- the finalized result (SPEC §4 result shape), written once
    result         jsonb,
    UNIQUE (cohort_exam_id, user_id)
);
CREATE INDEX attempts_user ON attempts (user_id, started_at DESC);
CREATE INDEX attempts_open_deadline ON attempts (deadline) WHERE status = 'in_progress' AND deadline IS NOT NULL;

CREATE TABLE attempt_questions (
    attempt_id    uuid NOT NULL REFERENCES attempts(id) ON DELETE CASCADE,
    user_id       uuid NOT NULL,
    position      integer NOT NULL CHECK (position >= 1),
    question_id   uuid NOT NULL,
    version       integer NOT NULL,
    domain        text NOT NULL,
    -- option ids in the order this attempt displays them
    option_order  text[] NOT NULL,
    choices       text[] NOT NULL DEFAULT '{}',
    flagged       boolean NOT NULL DEFAULT false,
    answered_at   timestamptz,
    -- how many answer writes this position has seen; clients may send it to refuse stale writes
    revision      integer NOT NULL DEFAULT 0,
    time_spent_ms bigint NOT NULL DEFAULT 0,
    correct       boolean,
    PRIMARY KEY (attempt_id, position),
    FOREIGN KEY (question_id, version) REFERENCES question_versions(question_id, version)
);
CREATE INDEX attempt_questions_user_question ON attempt_questions (user_id, question_id);

-- Learning state -------------------------------------------------------------------------------

-- Per learner and question: when it was last seen and answered, for recency and "mistakes".
CREATE TABLE user_question_stats (
    user_id        uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    question_id    uuid NOT NULL REFERENCES questions(id),
    last_seen_at   timestamptz NOT NULL DEFAULT now(),
    last_answered_at timestamptz,
    last_correct   boolean,
    times_answered integer NOT NULL DEFAULT 0,
    times_correct  integer NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, question_id)
);

-- Per learner and area (a domain or a tag): the mastery model's state.
CREATE TABLE mastery (
    user_id     uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    area_kind   text NOT NULL CHECK (area_kind IN ('domain', 'tag')),
    area        text NOT NULL,
    ability     double precision NOT NULL DEFAULT 0,
    variance    double precision NOT NULL DEFAULT 1,
    answered    integer NOT NULL DEFAULT 0,
    correct     integer NOT NULL DEFAULT 0,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, area_kind, area)
);

CREATE TABLE mastery_snapshots (
    user_id   uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    day       date NOT NULL,
    domain    text NOT NULL,
    ability   double precision NOT NULL,
    variance  double precision NOT NULL,
    answered  integer NOT NULL,
    PRIMARY KEY (user_id, day, domain)
);

-- Spaced repetition (FSRS) state per learner and question.
CREATE TABLE review_cards (
    user_id        uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    question_id    uuid NOT NULL REFERENCES questions(id),
    stability      double precision NOT NULL,
    difficulty     double precision NOT NULL,
    due_at         timestamptz NOT NULL,
    last_review_at timestamptz NOT NULL,
    reps           integer NOT NULL DEFAULT 0,
    lapses         integer NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, question_id)
);
CREATE INDEX review_cards_due ON review_cards (user_id, due_at);
