//! `/admin/users` (admins only): the accounts, and a one-time password reset link per user.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use uuid::Uuid;

use super::session::SessionView;
use super::{render_form, Csrf, CsrfOnly, PageError, PageUser};
use crate::services::accounts;
use crate::services::accounts::UserListRow;
use crate::services::password_resets::{self, IssuedLink};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/users", web::get().to(users)).route(
        "/admin/users/{id}/reset-link",
        web::post().to(issue_reset_link),
    );
}

#[derive(Template)]
#[template(path = "admin_users.html")]
struct UsersPage {
    user: Option<SessionView>,
    csrf: String,
    users: Vec<UserListRow>,
    truncated: bool,
    /// A link just issued (shown once, on the response to the post).
    issued: Option<IssuedLink>,
    /// The link with this server's scheme and host, for copying.
    issued_url: String,
}

impl UsersPage {
    fn expires(&self) -> String {
        self.issued
            .as_ref()
            .map(|l| l.expires_at.format("%Y-%m-%d %H:%M UTC").to_string())
            .unwrap_or_default()
    }
}

async fn page(
    state: &AppState,
    user: SessionView,
    csrf: &Csrf,
    issued: Option<(IssuedLink, String)>,
) -> Result<HttpResponse, PageError> {
    // 403 for everyone but admins (the role is read from the database)
    let users = accounts::list_users(&state.pool, user.id).await?;
    let (issued, issued_url) = match issued {
        Some((l, u)) => (Some(l), u),
        None => (None, String::new()),
    };
    let tpl = UsersPage {
        user: Some(user),
        csrf: csrf.token.clone(),
        truncated: users.len() as i64 >= accounts::USER_LIST_LIMIT,
        users,
        issued,
        issued_url,
    };
    let mut resp = render_form(StatusCode::OK, csrf, &tpl)?;
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

async fn users(
    state: web::Data<AppState>,
    user: PageUser,
    csrf: Csrf,
) -> Result<HttpResponse, PageError> {
    page(&state, user.0, &csrf, None).await
}

async fn issue_reset_link(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: PageUser,
    csrf: Csrf,
    path: web::Path<Uuid>,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, PageError> {
    csrf.verify(&form.csrf_token)?;
    let link = password_resets::issue_by_admin(
        &state.pool,
        user.0.id,
        path.into_inner(),
        state.settings.reset_ttl_minutes,
    )
    .await?;
    let url = {
        let info = req.connection_info();
        format!("{}://{}{}", info.scheme(), info.host(), link.path)
    };
    // the token is shown on this response only: not in a URL, not in the history
    page(&state, user.0, &csrf, Some((link, url))).await
}
