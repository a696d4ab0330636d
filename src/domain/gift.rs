//! Moodle GIFT, both ways: questions out for Moodle, and GIFT written by us, by Moodle or by a
//! person back in as [`BankItem`]s. Pure code, no I/O.
//!
//! What we write, one block per question and a blank line between blocks:
//!
//! ```text
//! $CATEGORY: exambank/s3
//!
//! // exambank: {"tags":["s3-encryption"],"difficulty":2,"exam_domain":"security","references":["https://…"],"last_verified":"2026-11-25","note":"s3#encryption"}
//! ::s3-sse::Which option encrypts objects at rest?{
//! =SSE-S3#S3 encrypts every object with S3-managed keys.
//! ~TLS#Protects data in transit only.
//! ####SSE-S3 encrypts at rest.
//! }
//! ```
//!
//! * `$CATEGORY:` (its own block, as Moodle wants it) when the domain changes; on import the
//!   last path segment is the domain of the questions that follow.
//! * The `// exambank:` comment carries what GIFT has no place for (Moodle ignores comments).
//! * Single answer: `=` for the correct option, `~` for the others. Multiple response: Moodle's
//!   weights, `~%50%` for each of two correct options (`33.33333` for three, …), `~%-100%` for
//!   the wrong ones. On import `=` or any positive weight is correct; a question with an `=`
//!   answer is `single`, one without is `multiple` (Moodle's own rule).
//! * `#` separates an option from its rationale, `####` starts the explanation (general
//!   feedback).
//! * `\ ~ = # { } :` are escaped with a backslash in every text and a newline is written `\n`,
//!   exactly as Moodle's own export does (a carriage return is dropped, also like Moodle).
//!
//! GIFT trims every text, so leading and trailing spaces of a text do not survive (escaped
//! newlines do). A text that starts like a format marker (`[html]`, …) gets a `[moodle]` marker
//! in front so the import does not eat it, and a wrong option starting with `%` gets an explicit
//! `%0%` weight so it is not read as one.

use std::fmt::Display;

use chrono::NaiveDate;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::question::{BankItem, OptionDraft, QuestionDraft};
use super::validation::FieldError;

/// The comment line that carries our metadata.
const META: &str = "// exambank:";
const CATEGORY: &str = "$CATEGORY:";
/// The category we file questions under: `exambank/{domain}`.
const CATEGORY_ROOT: &str = "exambank";
/// Moodle's text-format markers, `[html]` etc. at the start of a text.
const FORMATS: [&str; 4] = ["moodle", "html", "markdown", "plain"];
/// The characters GIFT gives a meaning (escaped with `\` in texts).
const SPECIAL: [char; 7] = ['\\', '~', '=', '#', '{', '}', ':'];

/// Defaults for a question without our comment (the caller's validation reports the gaps).
const DEFAULT_DIFFICULTY: i64 = 2;
const DEFAULT_EXAM_DOMAIN: &str = "development";

// ---------------------------------------------------------------------------------------------
// Writing

/// The metadata comment, in this key order.
#[derive(Serialize)]
struct MetaOut<'a> {
    tags: &'a [String],
    difficulty: i64,
    exam_domain: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    task: Option<&'a str>,
    references: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    last_verified: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<&'a str>,
}

/// GIFT text for Moodle: one question per block, blank line between blocks.
pub fn to_gift(items: &[BankItem]) -> String {
    let mut blocks: Vec<String> = Vec::new();
    let mut domain: Option<&str> = None;
    for item in items {
        let d = &item.draft;
        if domain != Some(d.domain.as_str()) {
            blocks.push(format!("{CATEGORY} {CATEGORY_ROOT}/{}\n", d.domain));
            domain = Some(&d.domain);
        }
        blocks.push(question_block(item));
    }
    blocks.join("\n")
}

fn question_block(item: &BankItem) -> String {
    let d = &item.draft;
    let meta = MetaOut {
        tags: &d.tags,
        difficulty: d.difficulty,
        exam_domain: &d.exam_domain,
        task: d.task.as_deref(),
        references: &d.references,
        last_verified: d.last_verified,
        note: d.note.as_deref(),
    };
    let json = serde_json::to_string(&meta).expect("strings, numbers and dates serialize");
    let mut out = format!("{META} {json}\n");
    match &item.slug {
        Some(slug) => {
            out.push_str("::");
            out.push_str(&escape(slug));
            out.push_str("::");
            out.push_str(&text_out(&d.stem, false));
        }
        // without a title the stem starts the line: `//` there would make it a comment
        None => out.push_str(&text_out(&d.stem, true)),
    }
    out.push_str("{\n");

    let multiple = d.kind == "multiple";
    let correct = d.options.iter().filter(|o| o.correct).count();
    let weight = weight_text(correct);
    for o in &d.options {
        let text = text_out(&o.text, false);
        let marker = if multiple {
            if o.correct {
                format!("~%{weight}%")
            } else {
                "~%-100%".to_string()
            }
        } else if o.correct {
            // Moodle reads no weight after `=`: the text can start with anything
            "=".to_string()
        } else if text.trim_start_matches(is_gift_space).starts_with('%') {
            // the text would be read as a weight
            "~%0%".to_string()
        } else {
            "~".to_string()
        };
        out.push_str(&marker);
        out.push_str(&text);
        if !o.rationale.is_empty() {
            out.push('#');
            out.push_str(&text_out(&o.rationale, false));
        }
        out.push('\n');
    }
    if !d.explanation.is_empty() {
        out.push_str("####");
        out.push_str(&text_out(&d.explanation, false));
        out.push('\n');
    }
    out.push_str("}\n");
    out
}

/// The weight of each correct option of a multiple-response question: 100 / n, as Moodle's
/// grade list has it (`50`, `33.33333`, `25`, `16.66667`, …).
fn weight_text(correct: usize) -> String {
    let w = format!("{:.5}", 100.0 / correct.max(1) as f64);
    w.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// GIFT's escapes: `\ ~ = # { } :` get a backslash, a newline becomes `\n`, `\r` is dropped.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c if SPECIAL.contains(&c) => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// An escaped text, protected from being read as a format marker (or, at the start of a line,
/// as a comment).
fn text_out(s: &str, starts_line: bool) -> String {
    let escaped = escape(s);
    let head = escaped.trim_start_matches(is_gift_space);
    if format_marker_len(head).is_some() || (starts_line && head.starts_with("//")) {
        format!("[moodle]{escaped}")
    } else {
        escaped
    }
}

/// The length of a leading `[html]`-style marker.
fn format_marker_len(s: &str) -> Option<usize> {
    let rest = s.strip_prefix('[')?;
    let end = rest.find(']')?;
    let name = &rest[..end];
    FORMATS
        .iter()
        .any(|f| f.eq_ignore_ascii_case(name))
        .then_some(end + 2)
}

/// The whitespace GIFT (PHP's `trim`) trims.
fn is_gift_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\0' | '\x0b')
}

// ---------------------------------------------------------------------------------------------
// Reading

/// One character of a question block: `lit` when it came from an escape (or is the `_____` of a
/// missing-word question) and so has no GIFT meaning; the line it is on.
#[derive(Debug, Clone, Copy)]
struct Ch {
    c: char,
    lit: bool,
    line: usize,
}

fn is(ch: &Ch, c: char) -> bool {
    !ch.lit && ch.c == c
}

fn find(s: &[Ch], c: char) -> Option<usize> {
    s.iter().position(|ch| is(ch, c))
}

fn trim(s: &[Ch]) -> &[Ch] {
    let space = |ch: &Ch| !ch.lit && is_gift_space(ch.c);
    let start = s.iter().position(|ch| !space(ch)).unwrap_or(s.len());
    let end = s.iter().rposition(|ch| !space(ch)).map_or(start, |i| i + 1);
    &s[start..end]
}

fn string(s: &[Ch]) -> String {
    s.iter().map(|ch| ch.c).collect()
}

/// A text as the author meant it: trimmed, without its format marker, unescaped.
fn clean(s: &[Ch]) -> String {
    let s = trim(s);
    let head: String = s
        .iter()
        .take(12)
        .take_while(|ch| !ch.lit)
        .map(|ch| ch.c)
        .collect();
    match format_marker_len(&head) {
        Some(n) => string(trim(&s[n..])),
        None => string(s),
    }
}

/// Splits a line into characters, resolving GIFT's escapes (an unknown escape stays as it is).
fn lex_line(line: usize, s: &str, out: &mut Vec<Ch>) {
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(Ch {
                c,
                lit: false,
                line,
            });
            continue;
        }
        let c = match chars.peek() {
            Some(&'n') => '\n',
            Some(&n) if SPECIAL.contains(&n) => n,
            _ => {
                out.push(Ch {
                    c: '\\',
                    lit: true,
                    line,
                });
                continue;
            }
        };
        chars.next();
        out.push(Ch { c, lit: true, line });
    }
}

/// The non-empty, trimmed lines of the text (with their numbers), in blank-line separated blocks.
fn blocks(text: &str) -> Vec<Vec<(usize, &str)>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut blocks = Vec::new();
    let mut current = Vec::new();
    for (i, line) in text.split('\n').enumerate() {
        let line = line.trim_matches(is_gift_space);
        if line.is_empty() {
            if !current.is_empty() {
                blocks.push(std::mem::take(&mut current));
            }
        } else {
            current.push((i + 1, line));
        }
    }
    if !current.is_empty() {
        blocks.push(current);
    }
    blocks
}

/// Collects the problems of one question, named `questions[i].field` with the line.
struct Problems<'a> {
    out: &'a mut Vec<FieldError>,
    question: usize,
}

impl Problems<'_> {
    fn add(&mut self, field: &str, line: usize, message: impl Display) {
        let name = if field.is_empty() {
            format!("questions[{}]", self.question)
        } else {
            format!("questions[{}].{field}", self.question)
        };
        self.out
            .push(FieldError::new(name, format!("{message} (line {line})")));
    }
}

/// Parses GIFT (ours, or written by Moodle/people). Errors name the question and field:
/// FieldError { field: "questions[3].options", message: "…(line 42)" }. All problems, not the first.
pub fn from_gift(text: &str) -> Result<Vec<BankItem>, Vec<FieldError>> {
    let mut items = Vec::new();
    let mut errors = Vec::new();
    let mut domain = String::new();
    let mut index = 0;
    for block in blocks(text) {
        let mut meta = Vec::new();
        let mut body = Vec::new();
        for (n, line) in block {
            if let Some(json) = line.strip_prefix(META) {
                meta.push((n, json));
            } else if !line.starts_with("//") {
                body.push((n, line));
            }
        }
        if let Some(&(_, first)) = body.first() {
            if let Some(path) = first.strip_prefix(CATEGORY) {
                domain = path.rsplit('/').next().unwrap_or("").trim().to_string();
                body.remove(0);
            }
        }
        let mut problems = Problems {
            out: &mut errors,
            question: index,
        };
        if body.is_empty() {
            // a comment or category block; our metadata must not get lost on the way
            for (n, _) in meta {
                problems.add(
                    "",
                    n,
                    "the `// exambank:` comment is not in the same block as a question (a blank line separates them)",
                );
            }
            continue;
        }
        index += 1;
        if let Some(item) = question(&body, &meta, &domain, &mut problems) {
            items.push(item);
        }
    }
    if errors.is_empty() {
        Ok(items)
    } else {
        Err(errors)
    }
}

/// One question block (comments removed): a multiple-choice question, or `None` and problems.
fn question(
    body: &[(usize, &str)],
    meta: &[(usize, &str)],
    domain: &str,
    problems: &mut Problems<'_>,
) -> Option<BankItem> {
    let mut chars = Vec::new();
    for (i, &(n, line)) in body.iter().enumerate() {
        if i > 0 {
            let previous = body[i - 1].0;
            chars.push(Ch {
                c: '\n',
                lit: false,
                line: previous,
            });
        }
        lex_line(n, line, &mut chars);
    }
    let text = trim(&chars);
    let start = text.first().map_or(body[0].0, |ch| ch.line);
    let mut draft = metadata(meta, domain, problems);
    let before = problems.out.len();

    // ::title::
    let mut rest = text;
    let mut slug = None;
    if text.len() >= 2 && is(&text[0], ':') && is(&text[1], ':') {
        let after = &text[2..];
        match after
            .windows(2)
            .position(|w| is(&w[0], ':') && is(&w[1], ':'))
        {
            Some(end) => {
                let title = string(trim(&after[..end]));
                slug = (!title.is_empty()).then_some(title);
                rest = trim(&after[end + 2..]);
            }
            None => {
                problems.add(
                    "slug",
                    start,
                    "the title opened with `::` is not closed with `::`",
                );
                return None;
            }
        }
    }

    // stem { answers } [rest of a missing-word stem]
    let (open, close) = match (find(rest, '{'), find(rest, '}')) {
        (None, None) => {
            problems.add(
                "kind",
                start,
                "a description (text without answers) is not supported: only multiple-choice questions",
            );
            return None;
        }
        (Some(open), Some(close)) if open < close => (open, close),
        (Some(open), _) => {
            problems.add("options", rest[open].line, "`{` without a closing `}`");
            return None;
        }
        (None, Some(close)) => {
            problems.add("options", rest[close].line, "`}` without an opening `{`");
            return None;
        }
    };
    let trailing = trim(&rest[close + 1..]);
    if let Some(extra) = trailing.iter().find(|ch| is(ch, '{') || is(ch, '}')) {
        problems.add(
            "options",
            extra.line,
            format!(
                "a second `{}` after the answers: one answer block per question (escape it as `\\{}` in text)",
                extra.c, extra.c
            ),
        );
        return None;
    }
    draft.stem = if trailing.is_empty() {
        clean(&rest[..open])
    } else {
        // Moodle's missing-word form: the answers stand for a blank in the sentence
        let blank = "_____".chars().map(|c| Ch {
            c,
            lit: true,
            line: rest[open].line,
        });
        let joined: Vec<Ch> = rest[..open]
            .iter()
            .copied()
            .chain(blank)
            .chain(rest[close + 1..].iter().copied())
            .collect();
        clean(&joined)
    };

    // answers ####general feedback
    let mut answers = trim(&rest[open + 1..close]);
    let general = answers
        .windows(4)
        .rposition(|w| w.iter().all(|ch| is(ch, '#')));
    if let Some(g) = general {
        draft.explanation = clean(&answers[g + 4..]);
        answers = trim(&answers[..g]);
    }
    let line = rest[open].line;
    if let Some(kind) = other_kind(answers) {
        problems.add(
            "kind",
            line,
            format!(
                "{kind} questions are not supported: only multiple choice (`=` right, `~` wrong)"
            ),
        );
        return None;
    }

    // =right#rationale ~wrong#rationale ~%50%partly#rationale
    let marks: Vec<usize> = (0..answers.len())
        .filter(|&i| is(&answers[i], '=') || is(&answers[i], '~'))
        .collect();
    let lead = trim(&answers[..marks[0]]);
    if !lead.is_empty() {
        problems.add(
            "options",
            lead[0].line,
            format!("text before the first answer: `{}`", string(lead)),
        );
    }
    draft.kind = if marks.iter().any(|&i| answers[i].c == '=') {
        "single".into()
    } else {
        "multiple".into()
    };
    for (j, &m) in marks.iter().enumerate() {
        let end = marks.get(j + 1).copied().unwrap_or(answers.len());
        let mut answer = trim(&answers[m + 1..end]);
        let correct = if answers[m].c == '=' {
            true
        } else {
            match weight(answer) {
                Some((w, len)) => {
                    answer = &answer[len..];
                    w > 0.0
                }
                None => false,
            }
        };
        let (text, rationale) = match find(answer, '#') {
            Some(h) => (clean(&answer[..h]), clean(&answer[h + 1..])),
            None => (clean(answer), String::new()),
        };
        draft.options.push(OptionDraft {
            text,
            correct,
            rationale,
        });
    }
    if draft.options.len() < 2 {
        problems.add(
            "options",
            line,
            format!(
                "a multiple-choice question needs at least two answers, found {}",
                draft.options.len()
            ),
        );
    }
    (problems.out.len() == before).then_some(BankItem { slug, draft })
}

/// Moodle's question type of an answer block, when it is not multiple choice.
fn other_kind(answers: &[Ch]) -> Option<&'static str> {
    if answers.is_empty() {
        return Some("essay (empty `{}`)");
    }
    if is(&answers[0], '#') {
        return Some("numerical (`{#…}`)");
    }
    if find(answers, '~').is_some() {
        return None;
    }
    let arrow = answers.windows(2).any(|w| is(&w[0], '-') && is(&w[1], '>'));
    if find(answers, '=').is_some() && arrow {
        return Some("matching (`=a -> b`)");
    }
    let head = string(trim(
        &answers[..find(answers, '#').unwrap_or(answers.len())],
    ));
    if ["T", "TRUE", "F", "FALSE"]
        .iter()
        .any(|t| t.eq_ignore_ascii_case(&head))
    {
        Some("true/false")
    } else {
        Some("short-answer (no `~` wrong answer)")
    }
}

/// A leading `%50%`, `%-100%`, `%33.33333%` weight: its value and length.
fn weight(s: &[Ch]) -> Option<(f64, usize)> {
    if s.first().is_none_or(|ch| !is(ch, '%')) {
        return None;
    }
    let end = 1 + s[1..].iter().position(|ch| is(ch, '%'))?;
    let number = string(&s[1..end]);
    let digits = number.trim_start_matches('-');
    let mut parts = digits.splitn(2, '.');
    let whole = parts.next().unwrap_or("");
    let fraction = parts.next().unwrap_or("");
    let ok = !whole.is_empty()
        && s[1..end].iter().all(|ch| !ch.lit)
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.bytes().all(|b| b.is_ascii_digit());
    if !ok {
        return None;
    }
    let magnitude: f64 = format!("{whole}.{fraction}0").parse().ok()?;
    let sign = if digits.len() < number.len() {
        -1.0
    } else {
        1.0
    };
    Some((sign * magnitude, end + 1))
}

/// The draft as far as the `// exambank:` comment tells it (defaults without one); text parts
/// are filled in by the caller.
fn metadata(meta: &[(usize, &str)], domain: &str, problems: &mut Problems<'_>) -> QuestionDraft {
    let mut draft = QuestionDraft {
        domain: domain.to_string(),
        tags: Vec::new(),
        kind: String::new(),
        difficulty: DEFAULT_DIFFICULTY,
        stem: String::new(),
        options: Vec::new(),
        explanation: String::new(),
        references: Vec::new(),
        exam_domain: DEFAULT_EXAM_DOMAIN.to_string(),
        task: None,
        last_verified: None,
        note: None,
    };
    for &(n, _) in meta.iter().skip(1) {
        problems.add(
            "",
            n,
            "a second `// exambank:` comment for the same question",
        );
    }
    let Some(&(line, json)) = meta.first() else {
        return draft;
    };
    let object = match serde_json::from_str::<serde_json::Value>(json) {
        Ok(serde_json::Value::Object(o)) => o,
        Ok(_) => {
            problems.add(
                "",
                line,
                "the `// exambank:` comment must hold a JSON object",
            );
            return draft;
        }
        Err(e) => {
            problems.add(
                "",
                line,
                format!("the `// exambank:` comment is not JSON: {e}"),
            );
            return draft;
        }
    };
    for (key, value) in object {
        match key.as_str() {
            "tags" => set(&mut draft.tags, &key, value, line, problems),
            "difficulty" => set(&mut draft.difficulty, &key, value, line, problems),
            "exam_domain" => set(&mut draft.exam_domain, &key, value, line, problems),
            "task" => set(&mut draft.task, &key, value, line, problems),
            "references" => set(&mut draft.references, &key, value, line, problems),
            "last_verified" => set(&mut draft.last_verified, &key, value, line, problems),
            "note" => set(&mut draft.note, &key, value, line, problems),
            _ => problems.add(
                &key,
                line,
                "unknown key in the `// exambank:` comment (known: tags, difficulty, exam_domain, task, references, last_verified, note)",
            ),
        }
    }
    draft
}

fn set<T: DeserializeOwned>(
    slot: &mut T,
    key: &str,
    value: serde_json::Value,
    line: usize,
    problems: &mut Problems<'_>,
) {
    match serde_json::from_value(value) {
        Ok(v) => *slot = v,
        Err(e) => problems.add(key, line, format!("in the `// exambank:` comment: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

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
}
