-- Calibration from real answers (issue 14): a Rasch (1PL) difficulty per question version,
-- fitted by `exambank calibrate` and its periodic job (docs/measurement.md), with the classical
-- statistics authors see; and per blueprint the pass standard its equated scaled score uses.
ALTER TABLE question_versions
    ADD COLUMN calib_difficulty double precision,
    ADD COLUMN calib_se double precision,
    ADD COLUMN calib_responses integer NOT NULL DEFAULT 0,
    ADD COLUMN calib_facility double precision,
    ADD COLUMN calib_point_biserial double precision,
    -- 'fitted' from enough responses, or 'prior' (the author difficulty's logit)
    ADD COLUMN calib_source text CHECK (calib_source IN ('fitted', 'prior', 'anchored')),
    ADD COLUMN calibrated_at timestamptz;

-- The share correct that passes on an average form (0.72), and the ability that gets it there
-- (720 on the scaled score), from the calibrated (or prior) difficulties of the blueprint's mix.
ALTER TABLE blueprints
    ADD COLUMN pass_share double precision NOT NULL DEFAULT 0.72 CHECK (pass_share > 0 AND pass_share < 1),
    ADD COLUMN pass_ability double precision;
