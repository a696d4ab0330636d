//! `/author/questions`: list, create, edit, retire, and resolve reports (instructors and
//! admins).

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;
use uuid::Uuid;

use super::{domain_options, non_empty};
use crate::domain::question::{OptionDraft, QuestionDraft, EXAM_DOMAINS, TASKS};
use crate::error::AppError;
use crate::http::urlencode;
use crate::services::accounts::require_role;
use crate::services::questions as svc;
use crate::services::questions::{ListFilter, QuestionRow, ReportRow};
use crate::state::AppState;
use crate::web::session::SessionView;
use crate::web::{render, render_form, Csrf, PageError, PageUser};

async fn require_author(state: &AppState, user: &SessionView) -> Result<(), PageError> {
    require_role(&state.pool, user.id, svc::AUTHORS).await?;
    Ok(())
}

#[derive(Template)]
#[template(path = "author_list.html")]
struct AuthorList {
    user: Option<SessionView>,
    q: String,
    items: Vec<QuestionRow>,
    next: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct AuthorQuery {
    q: Option<String>,
    cursor: Option<String>,
}

pub(super) async fn author_list(
    state: web::Data<AppState>,
    user: PageUser,
    q: web::Query<AuthorQuery>,
) -> Result<HttpResponse, PageError> {
    require_author(&state, &user.0).await?;
    let filter = ListFilter {
        q: non_empty(&q.q),
        include_retired: true,
        after: non_empty(&q.cursor),
        ..ListFilter::default()
    };
    let page = svc::browse(&state.pool, filter, 50).await?;
    let next = page.next_cursor.map(|c| {
        format!(
            "/author/questions?cursor={}{}",
            urlencode(&c),
            non_empty(&q.q)
                .map(|v| format!("&q={}", urlencode(&v)))
                .unwrap_or_default()
        )
    });
    render(
        StatusCode::OK,
        &AuthorList {
            user: Some(user.0),
            q: q.q.clone().unwrap_or_default(),
            items: page.items,
            next,
        },
    )
}

pub struct OptionRowView {
    pub index: usize,
    pub text: String,
    pub rationale: String,
    pub correct: bool,
    pub text_error: Option<String>,
    pub rationale_error: Option<String>,
}

#[derive(Template)]
#[template(path = "author_edit.html")]
struct EditPage {
    user: Option<SessionView>,
    csrf: String,
    /// None = a new question
    id: Option<Uuid>,
    slug: String,
    version: i32,
    retired: bool,
    domains: Vec<(String, String)>,
    exam_domains: Vec<&'static str>,
    tasks: Vec<(&'static str, &'static str, &'static str)>,
    draft: QuestionDraft,
    tags_text: String,
    references_text: String,
    options: Vec<OptionRowView>,
    errors: HashMap<String, String>,
    reports: Vec<ReportRow>,
    saved: bool,
}

impl EditPage {
    fn difficulty_is(&self, d: &str) -> bool {
        d.parse::<i64>() == Ok(self.draft.difficulty)
    }
    fn err(&self, field: &str) -> Option<&String> {
        self.errors.get(field).or_else(|| {
            // indexed fields (`tags[1]`, `references[0]`) show next to their list
            self.errors
                .iter()
                .find(|(k, _)| k.starts_with(&format!("{field}[")))
                .map(|(_, v)| v)
        })
    }
    fn general_errors(&self) -> Vec<(String, String)> {
        let shown = [
            "domain",
            "kind",
            "difficulty",
            "exam_domain",
            "task",
            "tags",
            "stem",
            "explanation",
            "references",
            "note",
            "last_verified",
        ];
        let mut v: Vec<(String, String)> = self
            .errors
            .iter()
            .filter(|(k, _)| {
                !shown
                    .iter()
                    .any(|s| k.as_str() == *s || k.starts_with(&format!("{s}[")))
            })
            .filter(|(k, _)| {
                !(k.starts_with("options[") && (k.ends_with(".text") || k.ends_with(".rationale")))
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        v.sort();
        v
    }
    fn task_code(&self) -> &str {
        self.draft.task.as_deref().unwrap_or("")
    }
    fn selected(&self, a: &str, b: &str) -> &'static str {
        if a == b {
            "selected"
        } else {
            ""
        }
    }
}

const OPTION_SLOTS: usize = 6;

fn option_rows(draft: &QuestionDraft, errors: &HashMap<String, String>) -> Vec<OptionRowView> {
    (0..OPTION_SLOTS.max(draft.options.len()))
        .map(|i| {
            let o = draft.options.get(i);
            OptionRowView {
                index: i,
                text: o.map(|o| o.text.clone()).unwrap_or_default(),
                rationale: o.map(|o| o.rationale.clone()).unwrap_or_default(),
                correct: o.is_some_and(|o| o.correct),
                text_error: errors.get(&format!("options[{i}].text")).cloned(),
                rationale_error: errors.get(&format!("options[{i}].rationale")).cloned(),
            }
        })
        .collect()
}

fn empty_draft() -> QuestionDraft {
    QuestionDraft {
        domain: "iam".into(),
        tags: vec![],
        kind: "single".into(),
        difficulty: 2,
        stem: String::new(),
        options: vec![],
        explanation: String::new(),
        references: vec![],
        exam_domain: "development".into(),
        task: None,
        last_verified: None,
        note: None,
    }
}

#[allow(clippy::too_many_arguments)]
async fn edit_page(
    state: &AppState,
    user: SessionView,
    csrf: &Csrf,
    row: Option<&QuestionRow>,
    draft: QuestionDraft,
    errors: HashMap<String, String>,
    reports: Vec<ReportRow>,
    saved: bool,
) -> Result<EditPage, PageError> {
    Ok(EditPage {
        user: Some(user),
        csrf: csrf.token.clone(),
        id: row.map(|r| r.id),
        slug: row.map(|r| r.slug.clone()).unwrap_or_default(),
        version: row.map(|r| r.version).unwrap_or(0),
        retired: row.is_some_and(|r| r.retired),
        domains: domain_options(state).await?,
        exam_domains: EXAM_DOMAINS.to_vec(),
        tasks: TASKS.to_vec(),
        tags_text: draft.tags.join(", "),
        references_text: draft.references.join("\n"),
        options: option_rows(&draft, &errors),
        draft,
        errors,
        reports,
        saved,
    })
}

pub(super) async fn new_form(
    state: web::Data<AppState>,
    user: PageUser,
    csrf: Csrf,
) -> Result<HttpResponse, PageError> {
    require_author(&state, &user.0).await?;
    let page = edit_page(
        &state,
        user.0,
        &csrf,
        None,
        empty_draft(),
        HashMap::new(),
        vec![],
        false,
    )
    .await?;
    render_form(StatusCode::OK, &csrf, &page)
}

#[derive(Deserialize)]
pub(super) struct SavedQuery {
    saved: Option<String>,
}

pub(super) async fn edit_form(
    state: web::Data<AppState>,
    user: PageUser,
    csrf: Csrf,
    id: web::Path<Uuid>,
    q: web::Query<SavedQuery>,
) -> Result<HttpResponse, PageError> {
    require_author(&state, &user.0).await?;
    let row = svc::get(&state.pool, *id).await?;
    let reports = svc::reports(&state.pool, user.0.id, *id).await?;
    let draft = svc::draft_of(&row);
    let page = edit_page(
        &state,
        user.0,
        &csrf,
        Some(&row),
        draft,
        HashMap::new(),
        reports,
        q.saved.is_some(),
    )
    .await?;
    render_form(StatusCode::OK, &csrf, &page)
}

/// Reads the question form (`option_text_N`, `option_rationale_N`, `option_correct_N`, …).
fn draft_from_form(pairs: &[(String, String)]) -> (String, QuestionDraft) {
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    let mut options = Vec::new();
    for i in 0..OPTION_SLOTS {
        let text = get(&format!("option_text_{i}"));
        let rationale = get(&format!("option_rationale_{i}"));
        let correct = pairs
            .iter()
            .any(|(n, _)| n == &format!("option_correct_{i}"));
        if !text.is_empty() || !rationale.is_empty() {
            options.push(OptionDraft {
                text,
                correct,
                rationale,
            });
        }
    }
    let split = |s: String, sep: char| {
        s.split(sep)
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(String::from)
            .collect::<Vec<_>>()
    };
    let draft = QuestionDraft {
        domain: get("domain"),
        tags: split(get("tags"), ','),
        kind: get("kind"),
        difficulty: get("difficulty").parse().unwrap_or(0),
        stem: get("stem").replace("\r\n", "\n"),
        options,
        explanation: get("explanation").replace("\r\n", "\n"),
        references: split(get("references"), '\n'),
        exam_domain: get("exam_domain"),
        task: Some(get("task")).filter(|t| !t.is_empty()),
        last_verified: chrono::NaiveDate::parse_from_str(&get("last_verified"), "%Y-%m-%d").ok(),
        note: Some(get("note")).filter(|n| !n.is_empty()),
    };
    (get("csrf_token"), draft)
}

async fn save(
    state: &AppState,
    user: SessionView,
    csrf: &Csrf,
    id: Option<Uuid>,
    pairs: Vec<(String, String)>,
) -> Result<HttpResponse, PageError> {
    let (token, draft) = draft_from_form(&pairs);
    csrf.verify(&token)?;
    let result = match id {
        None => svc::create(&state.pool, &state.notes, user.id, draft.clone()).await,
        Some(id) => svc::update(&state.pool, &state.notes, user.id, id, draft.clone()).await,
    };
    match result {
        Ok(row) => Ok(HttpResponse::SeeOther()
            .insert_header(("location", format!("/author/questions/{}?saved=1", row.id)))
            .finish()),
        Err(AppError::Validation(errs)) => {
            let errors: HashMap<String, String> =
                errs.into_iter().map(|e| (e.field, e.message)).collect();
            let row = match id {
                Some(id) => Some(svc::get(&state.pool, id).await?),
                None => None,
            };
            let page = edit_page(
                state,
                user,
                csrf,
                row.as_ref(),
                draft,
                errors,
                vec![],
                false,
            )
            .await?;
            render(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(e) => Err(e.into()),
    }
}

pub(super) async fn create(
    state: web::Data<AppState>,
    user: PageUser,
    csrf: Csrf,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    save(&state, user.0, &csrf, None, form.into_inner()).await
}

pub(super) async fn update(
    state: web::Data<AppState>,
    user: PageUser,
    csrf: Csrf,
    id: web::Path<Uuid>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    save(&state, user.0, &csrf, Some(*id), form.into_inner()).await
}

#[derive(Deserialize)]
pub(super) struct CsrfForm {
    csrf_token: String,
    #[serde(default)]
    resolution: String,
    /// `yes` once the author confirmed a destructive action
    #[serde(default)]
    confirm: String,
}

pub(super) async fn retire(
    state: web::Data<AppState>,
    user: PageUser,
    csrf: Csrf,
    id: web::Path<Uuid>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, PageError> {
    csrf.verify(&form.csrf_token)?;
    if form.confirm != "yes" {
        return crate::web::ConfirmPage {
            user: Some(user.0),
            csrf: csrf.token.clone(),
            title: "Retire this question?".into(),
            message: "Learners will no longer be given it in new exams or practice. Attempts that \
                      already have it keep it, and its versions stay for the record."
                .into(),
            action: format!("/author/questions/{}/retire", *id),
            button: "Retire the question".into(),
            cancel: format!("/author/questions/{}", *id),
        }
        .respond(&csrf);
    }
    svc::retire(&state.pool, user.0.id, *id).await?;
    Ok(crate::web::flash::see_other_with(
        format!("/author/questions/{}", *id),
        "Question retired.",
    ))
}

pub(super) async fn resolve(
    state: web::Data<AppState>,
    user: PageUser,
    csrf: Csrf,
    path: web::Path<(Uuid, Uuid)>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, PageError> {
    csrf.verify(&form.csrf_token)?;
    let (id, report) = path.into_inner();
    svc::resolve_report(&state.pool, user.0.id, id, report, &form.resolution).await?;
    Ok(HttpResponse::SeeOther()
        .insert_header(("location", format!("/author/questions/{id}")))
        .finish())
}
