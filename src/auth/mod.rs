//! Authentication: passwords, tokens, extractors, cookie sessions and CSRF.

pub mod extract;
pub mod password;
pub mod tokens;

use rand::RngCore;
use uuid::Uuid;

pub use extract::AuthUser;

/// 32 random bytes, URL-safe base64 without padding (43 characters).
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64_url(&bytes)
}

/// A token that names its user: `<user id, 32 hex digits>.<random_token()>`. Refresh tokens,
/// cookie sessions and reset links carry it, so that their rows are found by (user, hash),
/// on the learner's shard when the tables are distributed (docs/scaling.md §1.3). Only the
/// SHA-256 of the whole string is stored.
pub fn keyed_token(user: Uuid) -> String {
    format!("{}.{}", user.simple(), random_token())
}

/// The user a [`keyed_token`] names; `None` for a token without that prefix (issued before
/// tokens carried it, found by its hash alone until it expires).
pub fn token_user(token: &str) -> Option<Uuid> {
    let (user, secret) = token.split_once('.')?;
    if user.len() != 32 || secret.is_empty() {
        return None;
    }
    Uuid::try_parse(user).ok()
}

fn base64_url(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len() * 4 / 3 + 2);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..(chunk.len() + 1) {
            out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn keyed_tokens_name_their_user_and_old_tokens_name_none() {
        let user = uuid::Uuid::new_v4();
        let t = super::keyed_token(user);
        assert_eq!(t.len(), 32 + 1 + 43);
        assert_eq!(super::token_user(&t), Some(user));
        assert_ne!(t, super::keyed_token(user));
        assert_eq!(super::token_user(&super::random_token()), None);
        assert_eq!(
            super::token_user("not-a-uuid-at-all-but-32-chars-x.secret"),
            None
        );
        assert_eq!(super::token_user(&format!("{}.", user.simple())), None);
    }

    #[test]
    fn random_tokens_are_43_url_safe_characters_and_differ() {
        let a = super::random_token();
        let b = super::random_token();
        assert_eq!(a.len(), 43);
        assert!(a
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
        assert_ne!(a, b);
    }
}
