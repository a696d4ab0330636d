//! Study notes: Markdown files whose linkable sections are headings with explicit anchors,
//! `## Consistency model {#consistency}`.

use std::collections::BTreeMap;
use std::path::Path;

use super::SeedProblem;
use crate::domain::slug::is_slug;

#[derive(Debug, Clone, Default)]
pub struct NoteFile {
    pub title: String,
    /// (anchor, heading text, line)
    pub sections: Vec<(String, String, usize)>,
    pub markdown: String,
}

impl NoteFile {
    pub fn has_anchor(&self, anchor: &str) -> bool {
        self.sections.iter().any(|(a, _, _)| a == anchor)
    }

    pub fn parse(markdown: String, file: &Path, problems: &mut Vec<SeedProblem>) -> NoteFile {
        let mut note = NoteFile::default();
        let mut in_code = false;
        for (i, line) in markdown.lines().enumerate() {
            let line_no = i + 1;
            if line.trim_start().starts_with("```") {
                in_code = !in_code;
                continue;
            }
            if in_code || !line.starts_with('#') {
                continue;
            }
            let text = line.trim_start_matches('#').trim();
            if line.starts_with("# ") && note.title.is_empty() {
                note.title = text.to_string();
            }
            if let Some(open) = text.rfind("{#") {
                if text.ends_with('}') {
                    let anchor = &text[open + 2..text.len() - 1];
                    let heading = text[..open].trim().to_string();
                    if !is_slug(anchor, 80) {
                        problems.push(SeedProblem {
                            file: file.into(),
                            line: line_no,
                            message: format!("anchor `{anchor}` is not a slug"),
                        });
                    } else if note.has_anchor(anchor) {
                        problems.push(SeedProblem {
                            file: file.into(),
                            line: line_no,
                            message: format!("duplicate anchor `{anchor}`"),
                        });
                    } else {
                        note.sections.push((anchor.to_string(), heading, line_no));
                    }
                }
            }
        }
        if note.title.is_empty() {
            problems.push(SeedProblem {
                file: file.into(),
                line: 1,
                message: "notes must start with a `# Title` line".into(),
            });
        }
        note.markdown = markdown;
        note
    }
}

pub fn read_dir(dir: &Path, problems: &mut Vec<SeedProblem>) -> BTreeMap<String, NoteFile> {
    let mut out = BTreeMap::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        problems.push(SeedProblem {
            file: dir.into(),
            line: 0,
            message: "notes directory is missing".into(),
        });
        return out;
    };
    let mut paths: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        if path.extension().and_then(|e| e.to_str()) != Some("md") {
            continue;
        }
        let Some(stem) = path
            .file_stem()
            .and_then(|s| s.to_str())
            .map(str::to_string)
        else {
            continue;
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                out.insert(stem, NoteFile::parse(text, &path, problems));
            }
            Err(e) => problems.push(SeedProblem {
                file: path.clone(),
                line: 0,
                message: format!("cannot read: {e}"),
            }),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_explicit_anchors_and_skips_code() {
        let md = "# S3\n\n## Consistency {#consistency}\ntext\n```\n## Not {#code}\n```\n### Classes {#storage-classes}\n".to_string();
        let mut problems = vec![];
        let n = NoteFile::parse(md, Path::new("s3.md"), &mut problems);
        assert!(problems.is_empty());
        assert_eq!(n.title, "S3");
        assert!(n.has_anchor("consistency") && n.has_anchor("storage-classes"));
        assert!(!n.has_anchor("code"));
    }

    #[test]
    fn duplicate_anchor_is_a_problem_with_its_line() {
        let md = "# T\n## A {#a}\n## B {#a}\n".to_string();
        let mut problems = vec![];
        NoteFile::parse(md, Path::new("t.md"), &mut problems);
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].line, 3);
    }
}
