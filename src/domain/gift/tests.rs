//! The GIFT codec: writing, reading, round trips over tricky items and the whole bank.

use std::path::Path;

use chrono::NaiveDate;

use super::read::{lex_line, string};
use super::write::{escape, weight_text};
use super::*;
use crate::domain::question::{BankItem, OptionDraft, QuestionDraft};

fn opt(text: &str, correct: bool, rationale: &str) -> OptionDraft {
    OptionDraft {
        text: text.into(),
        correct,
        rationale: rationale.into(),
    }
}

fn item(
    slug: Option<&str>,
    domain: &str,
    kind: &str,
    stem: &str,
    options: Vec<OptionDraft>,
) -> BankItem {
    BankItem {
        slug: slug.map(str::to_string),
        draft: QuestionDraft {
            domain: domain.into(),
            tags: vec!["s3-encryption".into(), "kms-keys".into()],
            kind: kind.into(),
            difficulty: 3,
            stem: stem.into(),
            options,
            explanation: "Because {it} is so: a=b ~ c # d \\ e.".into(),
            references: vec![
                "https://docs.aws.amazon.com/kms/latest/developerguide/overview.html#x".into(),
            ],
            exam_domain: "security".into(),
            task: None,
            last_verified: NaiveDate::from_ymd_opt(2026, 11, 25),
            note: Some("s3#encryption".into()),
        },
    }
}

fn tricky() -> Vec<BankItem> {
    let mut v = vec![
            item(
                Some("s3-every-special-character"),
                "s3",
                "single",
                "Which policy has \"Effect\": \"Deny\" and {\"Condition\": {\"Bool\": {\"aws:SecureTransport\": \"false\"}}}? ~ = # : \\ \\n \\\\ ::not-a-title:: $CATEGORY: x",
                vec![
                    opt("=Deny when aws:SecureTransport = false", true, "#1: it denies plain HTTP; see {docs}."),
                    opt("~Allow only s3:GetObject", false, "It allows; it does not deny :)"),
                    opt("C:\\Users\\dev\\key.pem", false, "A path \\ with backslashes\\"),
                    opt("%50% of requests", false, "Looks like a Moodle weight."),
                ],
            ),
            item(
                None,
                "s3",
                "multiple",
                "A stem on\nseveral lines:\n\n  indented line\nand a blank line above. (Choose two.)",
                vec![
                    opt("Enable versioning", true, "Keeps every version.\nSecond line."),
                    opt("Use Object Lock", true, "WORM storage"),
                    opt("[html] looks like a format marker", false, "[plain]also here"),
                    opt("Use CORS", false, ""),
                    opt("Use ACLs", false, "ACLs are legacy — disable them"),
                ],
            ),
            item(
                Some("kms-three-correct-unicode"),
                "kms",
                "multiple",
                "Which three are true of AWS KMS — «clés», 鍵, ключи, ≈ 4 KB × 3 … 🔑? (Choose three.)",
                vec![
                    opt("Symmetric keys never leave KMS unencrypted", true, "Ja — „richtig“"),
                    opt("Encrypt accepts up to 4 KB of plaintext", true, "≈ 4096 bytes"),
                    opt("Data keys encrypt data locally (envelope encryption)", true, "✓"),
                    opt("KMS stores your data keys", false, "✗ it does not"),
                    opt("Key policies are optional", false, "Every key has exactly one key policy."),
                    opt("//not a comment", false, "// nor this"),
                ],
            ),
            item(
                Some("s3-four-correct"),
                "s3",
                "multiple",
                "//Starts like a comment. (Choose four.)",
                vec![
                    opt("a", true, "r1"),
                    opt("b", true, "r2"),
                    opt("c", true, "r3"),
                    opt("d", true, "r4"),
                    opt("e", false, "r5"),
                ],
            ),
        ];
    let mut bare = item(
        None,
        "kms",
        "single",
        "//A stem that starts like a comment, without a title",
        vec![
            opt("%5 off", true, "weight-like correct text"),
            opt("b", false, ""),
            opt("c", false, ""),
            opt("d", false, ""),
        ],
    );
    bare.draft.tags = vec![];
    bare.draft.references = vec![];
    bare.draft.last_verified = None;
    bare.draft.note = None;
    bare.draft.difficulty = 1;
    bare.draft.explanation = String::new();
    bare.draft.exam_domain = "development".into();
    v.push(bare);
    v
}

#[test]
fn round_trip_of_tricky_items_is_exact() {
    let items = tricky();
    let gift = to_gift(&items);
    let back = from_gift(&gift).unwrap_or_else(|e| panic!("{e:#?}\n{gift}"));
    assert_eq!(back.len(), items.len());
    for (a, b) in items.iter().zip(&back) {
        assert_eq!(a, b, "\n{gift}");
    }
}

#[test]
fn round_trip_of_the_whole_bank_is_exact() {
    let (bank, _) = crate::seed::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("seed"));
    assert!(bank.questions.len() > 100, "the bank did not load");
    let items: Vec<BankItem> = bank
        .questions
        .iter()
        .map(|q| BankItem {
            slug: Some(q.slug.clone()),
            draft: q.draft.clone(),
        })
        .collect();
    let gift = to_gift(&items);
    let back = from_gift(&gift).unwrap_or_else(|e| panic!("{e:#?}"));
    assert_eq!(back.len(), items.len());
    for (a, b) in items.iter().zip(&back) {
        assert_eq!(a, b);
    }
}

#[test]
fn writes_the_documented_format() {
    let mut q = item(
        Some("s3-sse"),
        "s3",
        "single",
        "Which key: SSE-S3 or {SSE-KMS}?",
        vec![
            opt("SSE-S3", true, "S3 = managed #keys"),
            opt("TLS", false, "In transit ~only"),
        ],
    );
    q.draft.tags = vec!["s3-encryption".into()];
    q.draft.references = vec!["https://docs.aws.amazon.com/x.html".into()];
    q.draft.explanation = "Line one\nline two".into();
    let mut m = item(
        None,
        "kms",
        "multiple",
        "Pick. (Choose three.)",
        vec![
            opt("a", true, "ra"),
            opt("b", true, ""),
            opt("c", true, "rc"),
            opt("d", false, "rd"),
        ],
    );
    m.draft.last_verified = None;
    m.draft.note = None;
    m.draft.explanation = String::new();
    let mut m2 = m.clone();
    m2.draft.stem = "Pick. (Choose two.)".into();
    m2.draft.options[2].correct = false;
    let expected = r#"$CATEGORY: exambank/s3

// exambank: {"tags":["s3-encryption"],"difficulty":3,"exam_domain":"security","references":["https://docs.aws.amazon.com/x.html"],"last_verified":"2026-11-25","note":"s3#encryption"}
::s3-sse::Which key\: SSE-S3 or \{SSE-KMS\}?{
=SSE-S3#S3 \= managed \#keys
~TLS#In transit \~only
####Line one\nline two
}

$CATEGORY: exambank/kms

// exambank: {"tags":["s3-encryption","kms-keys"],"difficulty":3,"exam_domain":"security","references":["https://docs.aws.amazon.com/kms/latest/developerguide/overview.html#x"]}
Pick. (Choose three.){
~%33.33333%a#ra
~%33.33333%b
~%33.33333%c#rc
~%-100%d#rd
}

// exambank: {"tags":["s3-encryption","kms-keys"],"difficulty":3,"exam_domain":"security","references":["https://docs.aws.amazon.com/kms/latest/developerguide/overview.html#x"]}
Pick. (Choose two.){
~%50%a#ra
~%50%b
~%-100%c#rc
~%-100%d#rd
}
"#;
    assert_eq!(to_gift(&[q, m, m2]), expected);
}

#[test]
fn weights_follow_moodles_grade_list() {
    assert_eq!(weight_text(1), "100");
    assert_eq!(weight_text(2), "50");
    assert_eq!(weight_text(3), "33.33333");
    assert_eq!(weight_text(4), "25");
    assert_eq!(weight_text(6), "16.66667");
    assert_eq!(weight_text(8), "12.5");
}

#[test]
fn escaping_covers_every_special_character() {
    assert_eq!(
        escape("a~b=c#d{e}f:g\\h\ni\r\n"),
        "a\\~b\\=c\\#d\\{e\\}f\\:g\\\\h\\ni\\n"
    );
    let mut chars = Vec::new();
    lex_line(1, "\\~\\=\\#\\{\\}\\:\\\\\\n\\q\\", &mut chars);
    assert_eq!(string(&chars), "~=#{}:\\\n\\q\\");
    assert!(chars.iter().all(|c| c.lit || c.c == 'q'));
}

const MOODLE_SAMPLE: &str = "\u{feff}// Exported from Moodle, then edited by hand.\r
// question: 0  name: Switch category to $course$/top/Default for DVA-C02/Storage/s3\r
$CATEGORY: $course$/top/Default for DVA-C02/Storage/s3\r
\r
\r
// question: 101  name: versioning\r
::S3 versioning::[html]<p>Which feature keeps <b>every</b> version of an object?</p>{\r
\t=[html]<p>Versioning</p>#[html]<p>Right\\: every PUT creates a version.</p>\r
\t~Replication#Copies objects to another bucket.\r
\t~Lifecycle rules\r
\t~[plain]Transfer Acceleration # Speeds up uploads only.\r
\t####[html]<p>Versioning keeps all versions.</p>\r
}\r
\r
// one line, no title, Moodle weights with decimals\r
Which two settings protect objects from deletion? (Choose two.) { ~%50.0%MFA Delete#needs the root MFA ~%50%Object Lock ~%-50%CORS#not related ~%0%Static website hosting }\r
\r
$CATEGORY: tutors/kms\r
\r
::kms-rotation::\r
How often does AWS KMS rotate\r
a customer managed key\r
with automatic rotation enabled by default?\r
{\r
  =Every year (365 days)\r
  ~Every 90 days  ~Every 30 days\r
  ~Never\r
}\r
\r
// a missing-word question\r
The KMS Encrypt API accepts at most {=4 KB ~1 MB ~64 KB} of plaintext.\r
";

#[test]
fn parses_a_moodle_style_sample() {
    let items = from_gift(MOODLE_SAMPLE).unwrap_or_else(|e| panic!("{e:#?}"));
    assert_eq!(items.len(), 4);

    let q = &items[0];
    assert_eq!(q.slug.as_deref(), Some("S3 versioning"));
    assert_eq!(q.draft.domain, "s3");
    assert_eq!(q.draft.kind, "single");
    assert_eq!(
        q.draft.stem,
        "<p>Which feature keeps <b>every</b> version of an object?</p>"
    );
    assert_eq!(
        q.draft.options,
        vec![
            opt(
                "<p>Versioning</p>",
                true,
                "<p>Right: every PUT creates a version.</p>"
            ),
            opt("Replication", false, "Copies objects to another bucket."),
            opt("Lifecycle rules", false, ""),
            opt("Transfer Acceleration", false, "Speeds up uploads only."),
        ]
    );
    assert_eq!(q.draft.explanation, "<p>Versioning keeps all versions.</p>");
    // no `// exambank:` comment: the defaults
    assert_eq!(q.draft.tags, Vec::<String>::new());
    assert_eq!(q.draft.difficulty, 2);
    assert_eq!(q.draft.exam_domain, "development");
    assert_eq!(q.draft.references, Vec::<String>::new());
    assert_eq!(q.draft.last_verified, None);
    assert_eq!(q.draft.note, None);

    let q = &items[1];
    assert_eq!(q.slug, None);
    assert_eq!(q.draft.domain, "s3");
    assert_eq!(q.draft.kind, "multiple");
    assert_eq!(
        q.draft.stem,
        "Which two settings protect objects from deletion? (Choose two.)"
    );
    assert_eq!(
        q.draft.options,
        vec![
            opt("MFA Delete", true, "needs the root MFA"),
            opt("Object Lock", true, ""),
            opt("CORS", false, "not related"),
            opt("Static website hosting", false, ""),
        ]
    );
    assert_eq!(q.draft.explanation, "");

    let q = &items[2];
    assert_eq!(q.slug.as_deref(), Some("kms-rotation"));
    assert_eq!(q.draft.domain, "kms");
    assert_eq!(
            q.draft.stem,
            "How often does AWS KMS rotate\na customer managed key\nwith automatic rotation enabled by default?"
        );
    let texts: Vec<(&str, bool)> = q
        .draft
        .options
        .iter()
        .map(|o| (o.text.as_str(), o.correct))
        .collect();
    assert_eq!(
        texts,
        [
            ("Every year (365 days)", true),
            ("Every 90 days", false),
            ("Every 30 days", false),
            ("Never", false)
        ]
    );

    let q = &items[3];
    assert_eq!(
        q.draft.stem,
        "The KMS Encrypt API accepts at most _____ of plaintext."
    );
    assert_eq!(q.draft.options.len(), 3);
    assert!(q.draft.options[0].correct);
}

#[test]
fn malformed_input_names_the_question_and_line() {
    let text = "\
// exambank: {\"tags\":[\"ok\"],\"difficulty\":\"hard\",\"last_verified\":\"2026-13-40\",\"colour\":1}
::q0::Fine answers, bad metadata{=a ~b}

::q1::True or false? {T}

::q2::Capital of France? {=Paris =paris}

::q3::Pi? {#3.14:0.01}

::q4::Match {=a -> 1 =b -> 2}

::q5::Write an essay. {}

::q6::Just a description.

::q7::Missing brace {
=a
~b

::q8 No closing title {=a ~b}

::q9::Only one answer {~a}

// exambank: not json
::q10::{=a ~b}

::q11::stray text {oops =a ~b}

// exambank: {\"tags\":[]}

$CATEGORY: x/y
::q12::Good {=a ~b}
";
    let errors = from_gift(text).unwrap_err();
    let got: Vec<(String, String)> = errors
        .iter()
        .map(|e| (e.field.clone(), e.message.clone()))
        .collect();
    let expect = [
        ("questions[0].difficulty", "(line 1)"),
        ("questions[0].last_verified", "(line 1)"),
        ("questions[0].colour", "(line 1)"),
        (
            "questions[1].kind",
            "true/false questions are not supported",
        ),
        ("questions[1].kind", "(line 4)"),
        ("questions[2].kind", "short-answer"),
        ("questions[3].kind", "numerical"),
        ("questions[3].kind", "(line 8)"),
        ("questions[4].kind", "matching"),
        ("questions[5].kind", "essay"),
        ("questions[6].kind", "description"),
        ("questions[6].kind", "(line 14)"),
        ("questions[7].options", "without a closing `}` (line 16)"),
        ("questions[8].slug", "(line 20)"),
        (
            "questions[9].options",
            "at least two answers, found 1 (line 22)",
        ),
        ("questions[10]", "not JSON"),
        ("questions[10]", "(line 24)"),
        (
            "questions[11].options",
            "text before the first answer: `oops` (line 27)",
        ),
        ("questions[12]", "a blank line separates them) (line 29)"),
    ];
    for (field, fragment) in expect {
        assert!(
            got.iter().any(|(f, m)| f == field && m.contains(fragment)),
            "no {field} error with `{fragment}` in {got:#?}"
        );
    }
    assert_eq!(got.len(), 15, "{got:#?}");
    assert!(!got.iter().any(|(f, _)| f.starts_with("questions[13]")));
}

#[test]
fn an_empty_text_has_no_questions() {
    assert_eq!(from_gift(""), Ok(vec![]));
    assert_eq!(
        from_gift("// only a comment\n\n$CATEGORY: a/b\n"),
        Ok(vec![])
    );
    assert_eq!(to_gift(&[]), "");
}
