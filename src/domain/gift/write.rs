//! Writing GIFT for Moodle: one block per question, as the module documentation describes.

use chrono::NaiveDate;
use serde::Serialize;

use super::{format_marker_len, is_gift_space, CATEGORY, CATEGORY_ROOT, META, SPECIAL};
use crate::domain::question::BankItem;

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
pub(super) fn weight_text(correct: usize) -> String {
    let w = format!("{:.5}", 100.0 / correct.max(1) as f64);
    w.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// GIFT's escapes: `\ ~ = # { } :` get a backslash, a newline becomes `\n`, `\r` is dropped.
pub(super) fn escape(s: &str) -> String {
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
