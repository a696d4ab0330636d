//! Password hashing: argon2id with parameters defined once, PHC strings, run on the blocking
//! pool (never on the request threads).

use std::sync::{LazyLock, OnceLock};

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Semaphore;

/// OWASP Password Storage Cheat Sheet: argon2id, m = 19 MiB, t = 2, p = 1.
pub const M_COST_KIB: u32 = 19_456;
pub const T_COST: u32 = 2;
pub const P_COST: u32 = 1;

pub const MIN_LEN: usize = 12;
pub const MAX_LEN: usize = 128;

fn hasher() -> Argon2<'static> {
    Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(M_COST_KIB, T_COST, P_COST, None).expect("argon2 parameters are valid"),
    )
}

/// A PHC string of a password nobody has: unknown emails are verified against it so a login
/// costs the same whether or not the account exists.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    hash_now("exambank dummy password for timing").expect("hashing a constant works")
});

pub fn hash_now(password: &str) -> anyhow::Result<String> {
    Ok(hasher()
        .hash_password(password.as_bytes())
        .map_err(|e| anyhow::anyhow!("argon2: {e}"))?
        .to_string())
}

pub fn verify_now(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => hasher()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// True when the stored hash was made with other parameters than today's.
pub fn needs_rehash(phc: &str) -> bool {
    let want = format!("$argon2id$v=19$m={M_COST_KIB},t={T_COST},p={P_COST}$");
    !phc.starts_with(&want)
}

/// At most this many hashes run at once per process, so a flood of logins cannot take every
/// core away from the other requests. Set once at startup; default: all cores but one.
static HASH_PERMITS: OnceLock<Semaphore> = OnceLock::new();

fn default_concurrency() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get().saturating_sub(1).max(1))
        .unwrap_or(1)
}

/// Sets the number of concurrent hashes (first call wins).
pub fn set_concurrency(n: Option<usize>) {
    let _ = HASH_PERMITS.set(Semaphore::new(n.unwrap_or_else(default_concurrency).max(1)));
}

/// Runs CPU-heavy work on the blocking pool under the hash permits, keeping the caller's span.
async fn on_blocking_pool<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> anyhow::Result<T> {
    let permits = HASH_PERMITS.get_or_init(|| Semaphore::new(default_concurrency()));
    let _permit = permits.acquire().await?;
    let span = tracing::Span::current();
    Ok(tokio::task::spawn_blocking(move || span.in_scope(f)).await?)
}

/// Hashes on the blocking pool.
pub async fn hash(password: SecretString) -> anyhow::Result<String> {
    on_blocking_pool(move || hash_now(password.expose_secret())).await?
}

/// Verifies on the blocking pool; `None` = no such account, which still costs one verification.
pub async fn verify(password: SecretString, phc: Option<String>) -> anyhow::Result<bool> {
    on_blocking_pool(move || match phc {
        Some(phc) => verify_now(password.expose_secret(), &phc),
        None => {
            let _ = verify_now(password.expose_secret(), &DUMMY_HASH);
            false
        }
    })
    .await
}

static COMMON: LazyLock<std::collections::HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("common-passwords.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect()
});

/// Why a password is refused, if it is.
pub fn policy_problem(password: &str) -> Option<String> {
    let n = password.chars().count();
    if n < MIN_LEN {
        return Some(format!("must be at least {MIN_LEN} characters"));
    }
    if n > MAX_LEN {
        return Some(format!("must be at most {MAX_LEN} characters"));
    }
    let lower = password.to_lowercase();
    let first = lower.chars().next().unwrap_or(' ');
    if COMMON.contains(lower.as_str()) || lower.chars().all(|c| c == first) {
        return Some("is one of the most common passwords; choose another".into());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_phc_and_verify() {
        let h = hash_now("correct horse battery staple").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify_now("correct horse battery staple", &h));
        assert!(!verify_now("correct horse battery stapler", &h));
        assert!(!needs_rehash(&h));
        assert!(needs_rehash("$argon2id$v=19$m=4096,t=3,p=1$abc$def"));
    }

    #[test]
    fn policy_refuses_short_long_and_common() {
        assert!(policy_problem("short").unwrap().contains("at least"));
        assert!(policy_problem(&"x".repeat(129))
            .unwrap()
            .contains("at most"));
        assert!(policy_problem("password1234").unwrap().contains("common"));
        assert!(policy_problem("aaaaaaaaaaaaaa").unwrap().contains("common"));
        assert!(policy_problem("tulip-glacier-7-orbit").is_none());
    }
}
