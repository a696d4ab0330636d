//! Access tokens (short-lived HS256 JWTs, algorithm pinned) and opaque refresh tokens (stored
//! as SHA-256 hashes, rotated on every use).

use chrono::Utc;
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::domain::user::Role;

/// Access tokens live 15 minutes.
pub const ACCESS_TTL_SECS: i64 = 15 * 60;
/// Refresh tokens live 30 days (each use rotates them).
pub const REFRESH_TTL_DAYS: i64 = 30;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: Uuid,
    pub role: Role,
    pub iat: i64,
    pub exp: i64,
}

pub fn issue_access(secret: &SecretString, user: Uuid, role: Role) -> anyhow::Result<String> {
    let now = Utc::now().timestamp();
    let claims = Claims {
        sub: user,
        role,
        iat: now,
        exp: now + ACCESS_TTL_SECS,
    };
    Ok(encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret.expose_secret().as_bytes()),
    )?)
}

/// Verifies signature (HS256 only: `alg: none` and other algorithms are refused), `exp`,
/// `iat` and `sub`.
pub fn verify_access(secret: &SecretString, token: &str) -> Option<Claims> {
    let mut v = Validation::new(Algorithm::HS256);
    v.set_required_spec_claims(&["exp", "iat", "sub"]);
    v.leeway = 5;
    let claims = decode::<Claims>(
        token,
        &DecodingKey::from_secret(secret.expose_secret().as_bytes()),
        &v,
    )
    .ok()?
    .claims;
    // a token issued in the future is not one we issued
    (claims.iat <= Utc::now().timestamp() + 5).then_some(claims)
}

pub fn hash_refresh(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SecretString {
        SecretString::from("a test key that is long enough to sign tokens".to_string())
    }

    #[test]
    fn round_trip() {
        let id = Uuid::new_v4();
        let t = issue_access(&key(), id, Role::Instructor).unwrap();
        let c = verify_access(&key(), &t).unwrap();
        assert_eq!((c.sub, c.role), (id, Role::Instructor));
    }

    #[test]
    fn wrong_key_and_tampering_fail() {
        let t = issue_access(&key(), Uuid::new_v4(), Role::Learner).unwrap();
        assert!(verify_access(&SecretString::from("another key".to_string()), &t).is_none());
        let mut parts: Vec<String> = t.split('.').map(String::from).collect();
        parts[1].insert(3, 'x');
        assert!(verify_access(&key(), &parts.join(".")).is_none());
    }
}
