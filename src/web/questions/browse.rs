//! `/questions`: browse and search the bank (no answers), 20 a page.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::{domain_options, non_empty};
use crate::http::urlencode;
use crate::services::questions as svc;
use crate::services::questions::{ListFilter, QuestionRow};
use crate::state::AppState;
use crate::web::session::SessionView;
use crate::web::{render, MaybeUser, PageError};

#[derive(Deserialize)]
pub(super) struct BrowseQuery {
    q: Option<String>,
    domain: Option<String>,
    difficulty: Option<String>,
    tag: Option<String>,
    cursor: Option<String>,
}

#[derive(Template)]
#[template(path = "questions_browse.html")]
struct BrowsePage {
    user: Option<SessionView>,
    q: String,
    domain: String,
    difficulty: String,
    tag: String,
    domains: Vec<(String, String)>,
    items: Vec<QuestionRow>,
    next: Option<String>,
}

impl BrowsePage {
    fn difficulty_is(&self, d: &str) -> bool {
        self.difficulty == d
    }
    fn note_link(&self, q: &QuestionRow) -> Option<String> {
        q.note
            .as_ref()
            .and_then(|n| n.split_once('#'))
            .map(|(d, a)| format!("/notes/{d}#{a}"))
    }
    fn option_texts(&self, q: &QuestionRow) -> Vec<String> {
        q.options
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|o| o["text"].as_str().unwrap_or_default().to_string())
                    .collect()
            })
            .unwrap_or_default()
    }
}

pub(super) async fn browse(
    state: web::Data<AppState>,
    user: MaybeUser,
    q: web::Query<BrowseQuery>,
) -> Result<HttpResponse, PageError> {
    let q = q.into_inner();
    let difficulty = non_empty(&q.difficulty)
        .and_then(|d| d.parse::<i16>().ok())
        .filter(|d| (1..=3).contains(d));
    let filter = ListFilter {
        domain: non_empty(&q.domain),
        tag: non_empty(&q.tag),
        difficulty,
        q: non_empty(&q.q),
        include_retired: false,
        after: non_empty(&q.cursor),
    };
    let page = svc::browse(&state.pool, filter, 20).await?;
    let keep = |k: &str, v: &Option<String>| {
        non_empty(v)
            .map(|v| format!("&{k}={}", urlencode(&v)))
            .unwrap_or_default()
    };
    let next = page.next_cursor.map(|c| {
        format!(
            "/questions?cursor={}{}{}{}{}",
            urlencode(&c),
            keep("q", &q.q),
            keep("domain", &q.domain),
            keep("difficulty", &q.difficulty),
            keep("tag", &q.tag)
        )
    });
    let tpl = BrowsePage {
        user: user.0,
        q: q.q.unwrap_or_default(),
        domain: q.domain.unwrap_or_default(),
        difficulty: q.difficulty.unwrap_or_default(),
        tag: q.tag.unwrap_or_default(),
        domains: domain_options(&state).await?,
        items: page.items,
        next,
    };
    render(StatusCode::OK, &tpl)
}
