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
//!
//! One codec, in three files: this one (the format's constants and what writing and reading
//! share), `gift/write.rs` and `gift/read.rs`; the tests are in `gift/tests.rs`.

mod read;
mod write;

pub use read::from_gift;
pub use write::to_gift;

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

#[cfg(test)]
mod tests;
