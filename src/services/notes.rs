//! Study notes: `seed/notes/{domain}.md` rendered once at startup (Markdown → sanitized HTML)
//! with the explicit `{#anchor}` heading ids questions link to.

use std::collections::BTreeMap;
use std::path::Path;

use pulldown_cmark::{html, Options, Parser};

use crate::seed::notes::{read_dir, NoteFile};

#[derive(Debug, Clone)]
pub struct RenderedNote {
    pub domain: String,
    pub title: String,
    /// (anchor, heading)
    pub sections: Vec<(String, String)>,
    pub html: String,
}

#[derive(Debug, Default)]
pub struct NotesCatalog {
    pub notes: BTreeMap<String, RenderedNote>,
}

impl NotesCatalog {
    /// Loads and renders `dir/notes/*.md`; problems in the files are logged, not fatal.
    pub fn load(seed_dir: &Path) -> NotesCatalog {
        let mut problems = Vec::new();
        let files = read_dir(&seed_dir.join("notes"), &mut problems);
        for p in problems {
            tracing::warn!(problem = %p, "study notes");
        }
        NotesCatalog {
            notes: files
                .into_iter()
                .map(|(d, f)| (d.clone(), render(&d, &f)))
                .collect(),
        }
    }

    pub fn has_anchor(&self, domain: &str, anchor: &str) -> bool {
        self.notes
            .get(domain)
            .is_some_and(|n| n.sections.iter().any(|(a, _)| a == anchor))
    }

    pub fn is_empty(&self) -> bool {
        self.notes.is_empty()
    }
}

pub fn render(domain: &str, note: &NoteFile) -> RenderedNote {
    let mut opts = Options::empty();
    opts.insert(Options::ENABLE_HEADING_ATTRIBUTES);
    opts.insert(Options::ENABLE_TABLES);
    opts.insert(Options::ENABLE_STRIKETHROUGH);
    let parser = Parser::new_ext(&note.markdown, opts);
    let mut raw = String::new();
    html::push_html(&mut raw, parser);
    RenderedNote {
        domain: domain.to_string(),
        title: note.title.clone(),
        sections: note
            .sections
            .iter()
            .map(|(a, h, _)| (a.clone(), h.clone()))
            .collect(),
        html: wrap_tables(&sanitize(&raw)),
    }
}

/// Puts every table in a labelled, keyboard-focusable region that scrolls sideways by itself
/// on a narrow screen, so the page never does.
fn wrap_tables(html: &str) -> String {
    let mut out = String::with_capacity(html.len() + 256);
    let mut rest = html;
    while let Some(at) = rest.find("<table>") {
        out.push_str(&rest[..at]);
        let table = &rest[at..];
        let end = table
            .find("</table>")
            .map_or(table.len(), |e| e + "</table>".len());
        let label = table[..end]
            .find("<th")
            .and_then(|th| {
                let cell = &table[th..end];
                let open = cell.find('>')? + 1;
                let close = cell.find("</th>")?;
                Some(strip_tags(&cell[open..close.max(open)]))
            })
            .filter(|l| !l.trim().is_empty())
            .map(|l| format!("Table: {}", l.trim()))
            .unwrap_or_else(|| "Table".to_string());
        out.push_str(&format!(
            "<div class=\"table-scroll\" role=\"region\" tabindex=\"0\" aria-label=\"{}\">",
            label.replace('"', "&quot;")
        ));
        out.push_str(&table[..end]);
        out.push_str("</div>");
        rest = &table[end..];
    }
    out.push_str(rest);
    out
}

fn strip_tags(s: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

/// Removes scripts, event handlers, `javascript:` links and anything else unsafe; keeps the
/// heading ids (anchors) and table markup.
pub fn sanitize(html: &str) -> String {
    let mut b = ammonia::Builder::default();
    for h in ["h1", "h2", "h3", "h4", "h5", "h6"] {
        b.add_tag_attributes(h, &["id"]);
    }
    b.add_tag_attributes("th", &["style"])
        .add_tag_attributes("td", &["style"]);
    b.clean(html).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_anchors_and_strips_unsafe_html() {
        let mut problems = vec![];
        let md = "# S3\n\n## Consistency {#consistency}\n\nText <script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(1)>\n\n| a | b |\n|---|---|\n| 1 | 2 |\n".to_string();
        let note = NoteFile::parse(md, Path::new("s3.md"), &mut problems);
        let r = render("s3", &note);
        assert!(r.html.contains("id=\"consistency\""), "{}", r.html);
        assert!(!r.html.contains("<script"));
        assert!(!r.html.contains("javascript:"));
        assert!(!r.html.contains("onerror"));
        assert!(r.html.contains("<table>"));
        assert!(
            r.html
                .contains("<div class=\"table-scroll\" role=\"region\" tabindex=\"0\" aria-label=\"Table: a\"><table>"),
            "{}",
            r.html
        );
        assert_eq!(
            r.sections,
            vec![("consistency".to_string(), "Consistency".to_string())]
        );
    }
}
