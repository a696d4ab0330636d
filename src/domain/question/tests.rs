//! Question validation (every bad field named), tasks, content hashes and near duplicates.

use super::*;

struct Bank;
impl BankContext for Bank {
    fn domain_exists(&self, slug: &str) -> bool {
        ["s3", "kms"].contains(&slug)
    }
    fn note_exists(&self, _domain: &str, anchor: &str) -> Option<bool> {
        Some(anchor == "encryption")
    }
}

fn opt(text: &str, correct: bool) -> OptionDraft {
    OptionDraft {
        text: text.into(),
        correct,
        rationale: format!("because {text}"),
    }
}

pub fn single() -> QuestionDraft {
    QuestionDraft {
        domain: "s3".into(),
        tags: vec!["s3-encryption".into()],
        kind: "single".into(),
        difficulty: 2,
        stem: "Which option encrypts objects at rest?".into(),
        options: vec![
            opt("SSE-S3", true),
            opt("TLS", false),
            opt("CORS", false),
            opt("ACLs", false),
        ],
        explanation: "SSE-S3 encrypts at rest.".into(),
        references: vec![
            "https://docs.aws.amazon.com/AmazonS3/latest/userguide/serv-side-encryption.html"
                .into(),
        ],
        exam_domain: "security".into(),
        task: Some("2.2".into()),
        last_verified: None,
        note: Some("s3#encryption".into()),
    }
}

fn fields(q: &QuestionDraft) -> Vec<String> {
    q.validate(&Bank, true)
        .into_iter()
        .map(|e| e.field)
        .collect()
}

#[test]
fn a_good_single_question_passes() {
    assert!(fields(&single()).is_empty());
}

#[test]
fn task_must_be_a_statement_of_the_questions_exam_domain() {
    let mut q = single();
    q.task = Some("1.3".into());
    let errs = q.validate(&Bank, true);
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].field, "task");
    assert!(
        errs[0].message.contains("`development` domain"),
        "{}",
        errs[0].message
    );
    q.task = Some("2.4".into());
    assert_eq!(fields(&q), ["task"]);
    q.task = None;
    assert_eq!(fields(&q), ["task"], "the bank files require a task");
    assert!(
        q.validate(&Bank, false).is_empty(),
        "the API and imports may leave it out"
    );
    for (code, domain, _) in TASKS {
        q.task = Some(code.into());
        q.exam_domain = domain.into();
        assert!(fields(&q).is_empty(), "{code} fits {domain}");
    }
    assert_eq!(TASKS.iter().filter(|t| t.1 == "deployment").count(), 4);
}

#[test]
fn a_task_changes_the_content_hash_and_no_task_keeps_the_old_one() {
    let mut q = single();
    let with = q.content_hash();
    q.task = None;
    let without = q.content_hash();
    assert_ne!(with, without);
    assert_eq!(without.len(), 64);
}

#[test]
fn single_needs_exactly_one_correct_of_four() {
    let mut q = single();
    q.options[1].correct = true;
    assert_eq!(fields(&q), ["options"]);
    let mut q = single();
    q.options.pop();
    assert_eq!(fields(&q), ["options"]);
}

#[test]
fn multiple_stem_count_must_match_the_options() {
    let mut q = single();
    q.kind = "multiple".into();
    q.options.push(opt("Object Lock", false));
    q.options[1].correct = true;
    q.stem = "Which options encrypt? (Choose three.)".into();
    assert_eq!(fields(&q), ["options"]);
    q.stem = "Which options encrypt?".into();
    assert_eq!(fields(&q), ["stem"]);
    q.stem = "Which options encrypt? (Choose two.)".into();
    assert!(fields(&q).is_empty());
}

#[test]
fn every_bad_field_is_named() {
    let mut q = single();
    q.domain = "nope".into();
    q.tags = vec!["Bad Tag".into()];
    q.difficulty = 4;
    q.exam_domain = "coding".into();
    q.references = vec!["http://example.com".into()];
    q.options[2].rationale = " ".into();
    q.note = Some("s3#missing".into());
    let f = fields(&q);
    for want in [
        "domain",
        "tags[0]",
        "difficulty",
        "exam_domain",
        "references[0]",
        "options[2].rationale",
        "note",
    ] {
        assert!(f.contains(&want.to_string()), "{want} missing from {f:?}");
    }
}

#[test]
fn all_of_the_above_is_refused() {
    let mut q = single();
    q.options[3].text = "All of the above".into();
    assert_eq!(fields(&q), ["options[3].text"]);
}

#[test]
fn note_is_optional_through_the_api_only() {
    let mut q = single();
    q.note = None;
    assert!(q.validate(&Bank, false).is_empty());
    assert_eq!(fields(&q), ["note"]);
}

#[test]
fn choose_count_reads_the_stem_end() {
    assert_eq!(choose_count("Pick. (Choose two.)"), Some(2));
    assert_eq!(choose_count("Pick. (Choose three.)\n"), Some(3));
    assert_eq!(choose_count("Pick two."), None);
}

#[test]
fn near_duplicates_are_similar() {
    let mut vocab = std::collections::HashMap::new();
    let mut ids = |s: &str| {
        let mut v: Vec<u32> = stem_words(s)
            .into_iter()
            .map(|w| {
                let n = vocab.len() as u32;
                *vocab.entry(w).or_insert(n)
            })
            .collect();
        v.sort_unstable();
        v
    };
    let a = ids("A developer stores objects in S3 and needs encryption at rest");
    let b = ids("A developer stores objects in S3 and needs encryption at rest now");
    let c = ids("Which DynamoDB index can be added after table creation");
    assert!(similarity(&a, &b) > NEAR_DUPLICATE);
    assert!(similarity(&a, &c) < 0.2);
}

#[test]
fn content_hash_changes_with_content_only() {
    let a = single();
    let mut b = single();
    assert_eq!(a.content_hash(), b.content_hash());
    b.options[0].rationale.push('!');
    assert_ne!(a.content_hash(), b.content_hash());
}
