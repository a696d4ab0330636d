-- Browse and search order by slug; these keep filtered lists index-ordered.
CREATE INDEX questions_domain_slug ON questions (domain, slug);
CREATE INDEX questions_difficulty_slug ON questions (difficulty, slug);
