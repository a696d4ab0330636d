-- The exam guide's task statement a question version tests (1.1 … 4.3). NULL only for versions
-- authored through the API or imported without one; the bank files require it.
ALTER TABLE question_versions ADD COLUMN task text
    CHECK (task IS NULL OR (
        task IN ('1.1','1.2','1.3','2.1','2.2','2.3','3.1','3.2','3.3','3.4','4.1','4.2','4.3')
        AND left(task, 1) = CASE exam_domain WHEN 'development' THEN '1' WHEN 'security' THEN '2'
                                             WHEN 'deployment' THEN '3' ELSE '4' END));
