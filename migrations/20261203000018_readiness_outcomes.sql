-- Readiness recalibrated against real outcomes (issue 14, docs/mastery.md "Readiness").
--
-- When a learner starts an exam-mode attempt of a blueprint, the learner model's beliefs at
-- that moment are kept beside it (a copy of the learner's topic-area rows of `mastery`, a few
-- hundred bytes). Once attempts are finalized, calibration predicts each of them from its
-- beliefs on the blueprint's current form, fits P(pass) = sigmoid(slope · logit(predicted) +
-- intercept) to whether it passed, and stores the map per blueprint; `/me/readiness` applies it.
-- Distributed by learner on Citus, like the attempts (docs/scaling.md).
CREATE TABLE readiness_predictions (
    user_id    uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    attempt_id uuid NOT NULL,
    blueprint  text NOT NULL REFERENCES blueprints(slug) ON DELETE CASCADE,
    -- {"s3": {"mu": 0.4, "var": 0.3}, ...}: the learner's beliefs when the attempt started
    beliefs    jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, attempt_id)
);
CREATE INDEX readiness_predictions_blueprint ON readiness_predictions (blueprint, created_at DESC);

CREATE TABLE readiness_recalibration (
    blueprint  text PRIMARY KEY REFERENCES blueprints(slug) ON DELETE CASCADE,
    slope      double precision NOT NULL CHECK (slope > 0),
    intercept  double precision NOT NULL,
    outcomes   integer NOT NULL CHECK (outcomes >= 0),
    fitted_at  timestamptz NOT NULL DEFAULT now()
);
