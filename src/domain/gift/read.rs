//! Reading GIFT written by us, by Moodle or by a person, back into [`BankItem`]s.

use std::fmt::Display;

use serde::de::DeserializeOwned;

use super::{
    format_marker_len, is_gift_space, CATEGORY, DEFAULT_DIFFICULTY, DEFAULT_EXAM_DOMAIN, META,
    SPECIAL,
};
use crate::domain::question::{BankItem, OptionDraft, QuestionDraft};
use crate::domain::validation::FieldError;

/// One character of a question block: `lit` when it came from an escape (or is the `_____` of a
/// missing-word question) and so has no GIFT meaning; the line it is on.
#[derive(Debug, Clone, Copy)]
pub(super) struct Ch {
    pub(super) c: char,
    pub(super) lit: bool,
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

pub(super) fn string(s: &[Ch]) -> String {
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
pub(super) fn lex_line(line: usize, s: &str, out: &mut Vec<Ch>) {
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
