//! Slugs: the lowercase kebab-case identifiers used for question ids, tags and note anchors.

/// `^[a-z0-9]+(-[a-z0-9]+)*$` with a length limit.
pub fn is_slug(s: &str, max_len: usize) -> bool {
    !s.is_empty()
        && s.len() <= max_len
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--")
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

pub const QUESTION_ID_MAX: usize = 80;
pub const TAG_MAX: usize = 40;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_kebab_case() {
        assert!(is_slug("s3-storage-classes", TAG_MAX));
        assert!(is_slug("kms", TAG_MAX));
        assert!(is_slug("a1-b2", TAG_MAX));
    }

    #[test]
    fn rejects_everything_else() {
        for bad in ["", "S3", "s3_classes", "-s3", "s3-", "s3--x", "s3 x", "é"] {
            assert!(!is_slug(bad, TAG_MAX), "{bad:?}");
        }
        assert!(!is_slug(&"a".repeat(41), TAG_MAX));
    }
}
