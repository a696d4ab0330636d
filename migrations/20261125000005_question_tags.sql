-- Tag filter in slug order straight from an index: one row per (tag, question).
CREATE TABLE question_tags (
    tag         text NOT NULL,
    slug        text NOT NULL,
    question_id uuid NOT NULL REFERENCES questions(id),
    PRIMARY KEY (tag, slug)
);
CREATE INDEX question_tags_question ON question_tags (question_id);
INSERT INTO question_tags (tag, slug, question_id)
SELECT DISTINCT t, q.slug, q.id FROM questions q, unnest(q.tags) AS t;
