-- Mock exams that measure like DVA-C02 (issue 14): the exam guide's domains as data, two-way
-- assembly, unscored items and pilot versions.

-- 1. The exam guide's four domains and their shares of the scored questions (seed/domains.toml).
CREATE TABLE exam_domains (
    slug     text PRIMARY KEY CHECK (slug IN ('development', 'security', 'deployment', 'troubleshooting')),
    name     text NOT NULL,
    weight   double precision NOT NULL CHECK (weight >= 0),
    position integer NOT NULL DEFAULT 0
);

-- 2. Blueprints weigh scored questions by exam-guide domain ({} = by topic area only) and may
--    hold unscored questions (dva-c02: 15 of 65).
ALTER TABLE blueprints
    ADD COLUMN exam_domain_weights jsonb NOT NULL DEFAULT '{}',
    ADD COLUMN unscored integer NOT NULL DEFAULT 0 CHECK (unscored >= 0);

-- 3. Pilot versions: a version created through authoring or import after the bank was seeded
--    starts as a pilot. Pilots fill unscored slots first; calibration promotes or flags them.
ALTER TABLE question_versions
    ADD COLUMN pilot_status text NOT NULL DEFAULT 'operational'
        CHECK (pilot_status IN ('operational', 'pilot', 'flagged')),
    ADD COLUMN pilot_reason text;
ALTER TABLE questions ADD COLUMN pilot boolean NOT NULL DEFAULT false;
CREATE INDEX questions_pilot ON questions (sample_key) WHERE pilot AND retired_at IS NULL;

-- 4. The current version's exam domain on the question row, for index-driven two-way sampling
--    (topic area × exam domain), and whether it is a pilot. Kept by triggers: a new current
--    version, or a new version that is current, sets them.
ALTER TABLE questions ADD COLUMN exam_domain text;
UPDATE questions q SET exam_domain = v.exam_domain
  FROM question_versions v WHERE v.question_id = q.id AND v.version = q.current_version;
CREATE INDEX questions_sample_exam ON questions (domain, exam_domain, sample_key) WHERE retired_at IS NULL;

CREATE FUNCTION questions_exam_domain_from_version() RETURNS trigger AS $$
BEGIN
    UPDATE questions SET exam_domain = NEW.exam_domain, pilot = (NEW.pilot_status = 'pilot')
     WHERE id = NEW.question_id AND current_version = NEW.version;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER question_versions_exam_domain AFTER INSERT ON question_versions
    FOR EACH ROW EXECUTE FUNCTION questions_exam_domain_from_version();

CREATE FUNCTION questions_exam_domain_on_current() RETURNS trigger AS $$
BEGIN
    SELECT v.exam_domain, coalesce(v.pilot_status = 'pilot', false) INTO NEW.exam_domain, NEW.pilot
      FROM question_versions v WHERE v.question_id = NEW.id AND v.version = NEW.current_version;
    NEW.pilot := coalesce(NEW.pilot, false);
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER questions_exam_domain BEFORE UPDATE OF current_version ON questions
    FOR EACH ROW WHEN (OLD.current_version IS DISTINCT FROM NEW.current_version)
    EXECUTE FUNCTION questions_exam_domain_on_current();


-- 5. Whether an item counts in its attempt's score. Never shown before the attempt is final.
ALTER TABLE attempt_questions ADD COLUMN scored boolean NOT NULL DEFAULT true;
ALTER TABLE cohort_exam_questions ADD COLUMN scored boolean NOT NULL DEFAULT true;

-- 6. How many current, unretired questions each (topic area, exam domain) cell holds, ordinary
--    and pilot: what two-way assembly allocates over, kept by a trigger so that assembly reads
--    a few dozen rows instead of counting the bank.
CREATE TABLE bank_cells (
    domain      text NOT NULL,
    exam_domain text NOT NULL,
    operational integer NOT NULL DEFAULT 0,
    pilot       integer NOT NULL DEFAULT 0,
    PRIMARY KEY (domain, exam_domain)
);
INSERT INTO bank_cells (domain, exam_domain, operational, pilot)
SELECT domain, exam_domain, count(*) FILTER (WHERE NOT pilot), count(*) FILTER (WHERE pilot)
  FROM questions WHERE retired_at IS NULL AND exam_domain IS NOT NULL GROUP BY 1, 2;

CREATE FUNCTION bank_cells_count() RETURNS trigger AS $$
DECLARE
    was boolean := TG_OP <> 'INSERT' AND OLD.retired_at IS NULL AND OLD.exam_domain IS NOT NULL;
    now_in boolean := TG_OP <> 'DELETE' AND NEW.retired_at IS NULL AND NEW.exam_domain IS NOT NULL;
BEGIN
    IF was AND now_in AND OLD.domain = NEW.domain AND OLD.exam_domain = NEW.exam_domain
       AND OLD.pilot = NEW.pilot THEN
        RETURN NULL;
    END IF;
    IF was THEN
        UPDATE bank_cells SET operational = operational - (NOT OLD.pilot)::int, pilot = pilot - OLD.pilot::int
         WHERE domain = OLD.domain AND exam_domain = OLD.exam_domain;
    END IF;
    IF now_in THEN
        INSERT INTO bank_cells (domain, exam_domain, operational, pilot)
        VALUES (NEW.domain, NEW.exam_domain, (NOT NEW.pilot)::int, NEW.pilot::int)
        ON CONFLICT (domain, exam_domain) DO UPDATE
           SET operational = bank_cells.operational + EXCLUDED.operational,
               pilot = bank_cells.pilot + EXCLUDED.pilot;
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER questions_bank_cells AFTER INSERT OR UPDATE OR DELETE ON questions
    FOR EACH ROW EXECUTE FUNCTION bank_cells_count();
