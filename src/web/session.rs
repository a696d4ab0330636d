//! Cookie sessions and CSRF protection for the pages.
//!
//! The session cookie is HttpOnly, SameSite=Lax and Secure when the request came over https.
//! Every state-changing form carries a CSRF token that must equal the `exambank_csrf` cookie
//! (double submit; the cookie is HttpOnly and SameSite=Strict, so another site can neither
//! read nor send it).

use actix_web::cookie::{time::Duration as CookieDuration, Cookie, SameSite};
use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use futures_util::future::LocalBoxFuture;
use uuid::Uuid;

use super::PageError;
use crate::auth::random_token;
use crate::domain::user::Role;
use crate::error::AppError;
use crate::http::urlencode;
use crate::services::sessions;
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "exambank_session";
pub const CSRF_COOKIE: &str = "exambank_csrf";

/// What templates show about the signed-in user.
#[derive(Debug, Clone)]
pub struct SessionView {
    pub id: Uuid,
    pub display_name: String,
    pub role: Role,
}

impl SessionView {
    pub fn can_author(&self) -> bool {
        self.role.can_author()
    }
}

/// The signed-in user, if any.
pub struct MaybeUser(pub Option<SessionView>);

/// A signed-in user; anonymous visitors are sent to `/login?next=…`.
pub struct PageUser(pub SessionView);

/// The signed-in user of a request, if any (for code that is not an extractor).
pub async fn current_user(req: &HttpRequest) -> Result<Option<SessionView>, PageError> {
    lookup(req).await
}

async fn lookup(req: &HttpRequest) -> Result<Option<SessionView>, PageError> {
    let Some(cookie) = req.cookie(SESSION_COOKIE) else {
        return Ok(None);
    };
    let state = req
        .app_data::<web::Data<AppState>>()
        .expect("AppState")
        .clone();
    let user = sessions::web_session_user(&state.pool, cookie.value()).await?;
    Ok(user.map(|u| SessionView {
        id: u.user_id,
        display_name: u.display_name,
        role: Role::parse(&u.role).unwrap_or(Role::Learner),
    }))
}

impl FromRequest for MaybeUser {
    type Error = PageError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { Ok(MaybeUser(lookup(&req).await?)) })
    }
}

impl FromRequest for PageUser {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            match lookup(&req).await? {
                Some(u) => Ok(PageUser(u)),
                None => {
                    let next = req
                        .uri()
                        .path_and_query()
                        .map(|p| p.as_str())
                        .unwrap_or("/");
                    let location = format!("/login?next={}", urlencode(next));
                    Err(actix_web::error::InternalError::from_response(
                        "login required",
                        actix_web::HttpResponse::SeeOther()
                            .insert_header(("location", location))
                            .finish(),
                    )
                    .into())
                }
            }
        })
    }
}

/// Only same-site relative paths are followed after login (no open redirects).
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => "/".to_string(),
    }
}

fn is_https(req: &HttpRequest) -> bool {
    req.connection_info().scheme() == "https"
}

/// The CSRF token of this browser (from its cookie, or a new one to set).
pub struct Csrf {
    pub token: String,
    fresh: bool,
    secure: bool,
}

impl FromRequest for Csrf {
    type Error = PageError;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let secure = is_https(req);
        let csrf = match req.cookie(CSRF_COOKIE) {
            Some(c) if c.value().len() >= 32 => Csrf {
                token: c.value().to_string(),
                fresh: false,
                secure,
            },
            _ => Csrf {
                token: random_token(),
                fresh: true,
                secure,
            },
        };
        std::future::ready(Ok(csrf))
    }
}

impl Csrf {
    /// A form post must carry the token of the cookie it came with; otherwise 403.
    pub fn verify(&self, submitted: &str) -> Result<(), PageError> {
        let a = self.token.as_bytes();
        let b = submitted.as_bytes();
        let equal = !self.fresh
            && a.len() == b.len()
            && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0;
        if equal {
            Ok(())
        } else {
            Err(PageError(AppError::Forbidden(
                "the form's security token is missing or stale; reload the page and try again"
                    .into(),
            )))
        }
    }

    fn cookie(&self) -> Cookie<'static> {
        Cookie::build(CSRF_COOKIE, self.token.clone())
            .path("/")
            .http_only(true)
            .secure(self.secure)
            .same_site(SameSite::Strict)
            .finish()
    }

    /// Adds the cookie to a page response when this browser had none.
    pub fn attach(&self, mut resp: HttpResponse) -> Result<HttpResponse, PageError> {
        if self.fresh {
            resp.add_cookie(&self.cookie())
                .map_err(|e| PageError(AppError::Internal(anyhow::anyhow!("cookie: {e}"))))?;
        }
        Ok(resp)
    }
}

pub fn session_cookie(req: &HttpRequest, token: String) -> Cookie<'static> {
    Cookie::build(SESSION_COOKIE, token)
        .path("/")
        .http_only(true)
        .secure(is_https(req))
        .same_site(SameSite::Lax)
        .max_age(CookieDuration::days(sessions::WEB_SESSION_DAYS))
        .finish()
}

pub fn clear_session_cookie(req: &HttpRequest) -> Cookie<'static> {
    let mut c = session_cookie(req, String::new());
    c.make_removal();
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_only_follows_local_paths() {
        assert_eq!(safe_next(Some("/dashboard?x=1")), "/dashboard?x=1");
        assert_eq!(safe_next(Some("//evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn csrf_rejects_missing_and_wrong_tokens() {
        let c = Csrf {
            token: "a".repeat(43),
            fresh: false,
            secure: false,
        };
        assert!(c.verify(&"a".repeat(43)).is_ok());
        assert!(c.verify(&"b".repeat(43)).is_err());
        assert!(c.verify("").is_err());
        let fresh = Csrf {
            token: "a".repeat(43),
            fresh: true,
            secure: false,
        };
        assert!(
            fresh.verify(&"a".repeat(43)).is_err(),
            "no cookie was sent: refuse"
        );
    }
}
