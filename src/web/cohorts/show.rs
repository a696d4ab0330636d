//! `/cohorts/{id}`: members (owner), exams with their windows and a start button, the group's
//! weak areas and the domain × member heatmap.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use uuid::Uuid;

use super::heatmap::{heatmap, Heatmap};
use super::when;
use crate::services::catalog::BlueprintRow;
use crate::services::cohort_views as views;
use crate::services::cohorts::{CohortRow, ExamView, GroupArea, MemberRow, Window, PASS_SHARE};
use crate::state::AppState;
use crate::web::session::SessionView;
use crate::web::{render_form, Csrf, PageError, PageUser};

pub struct ExamLine {
    pub id: Uuid,
    pub blueprint: String,
    pub opens: String,
    pub closes: String,
    pub questions: i64,
    pub shuffle: bool,
    /// "upcoming", "open" or "closed"
    pub window: &'static str,
    pub extension_minutes: i32,
    pub can_start: bool,
    /// (attempt, status) of the caller's own attempt
    pub attempt: Option<(Uuid, String)>,
}

impl ExamLine {
    fn new(v: ExamView, member: bool, names: &BTreeMap<String, String>) -> ExamLine {
        ExamLine {
            id: v.exam.id,
            blueprint: names
                .get(&v.exam.blueprint)
                .cloned()
                .unwrap_or(v.exam.blueprint),
            opens: when(v.exam.opens_at),
            closes: when(v.exam.closes_at),
            questions: v.exam.question_count,
            shuffle: v.exam.shuffle,
            window: match v.window {
                Window::Upcoming => "upcoming",
                Window::Open => "open",
                Window::Closed => "closed",
            },
            extension_minutes: v.extension_minutes,
            can_start: member && v.window == Window::Open && v.attempt.is_none(),
            attempt: v.attempt,
        }
    }
}

pub struct AreaLine {
    pub area: String,
    pub percent: i64,
    pub below: usize,
    pub members: usize,
}

impl From<&GroupArea> for AreaLine {
    fn from(a: &GroupArea) -> Self {
        AreaLine {
            area: a.area.clone(),
            percent: (a.mean_estimate * 100.0).round() as i64,
            below: a.below_threshold,
            members: a.members,
        }
    }
}

#[derive(Template)]
#[template(path = "cohort_show.html")]
struct ShowPage {
    user: Option<SessionView>,
    csrf: String,
    cohort: CohortRow,
    owner: bool,
    members: Vec<MemberRow>,
    exams: Vec<ExamLine>,
    domains: Vec<AreaLine>,
    tags: Vec<AreaLine>,
    heatmap: Option<Heatmap>,
    blueprints: Vec<BlueprintRow>,
    errors: Vec<String>,
    pass_percent: i64,
}

pub(super) async fn show_page(
    state: &AppState,
    user: SessionView,
    csrf: &Csrf,
    id: Uuid,
    status: StatusCode,
    errors: Vec<String>,
) -> Result<HttpResponse, PageError> {
    let v = views::show(&state.pool, user.id, id).await?;
    let owner = v.owner;
    let exams = v
        .exams
        .into_iter()
        .map(|e| ExamLine::new(e, !owner, &v.blueprint_names))
        .collect();
    let group = v.group;
    let mut domains: Vec<AreaLine> = Vec::new();
    let mut tags: Vec<AreaLine> = Vec::new();
    for a in &group.areas {
        if a.kind == "domain" {
            domains.push(a.into());
        } else if a.members > 0 {
            tags.push(a.into());
        }
    }
    // weakest tags first, the ten that hold the group back most
    tags.sort_by_key(|t| (t.percent, t.area.clone()));
    tags.truncate(10);
    let domain_slugs: Vec<String> = domains.iter().map(|d| d.area.clone()).collect();
    let heatmap = group
        .members
        .as_deref()
        .and_then(|m| heatmap(m, &domain_slugs));
    let page = ShowPage {
        user: Some(user),
        csrf: csrf.token.clone(),
        owner,
        members: v.members,
        exams,
        domains,
        tags,
        heatmap,
        blueprints: v.blueprints,
        errors,
        pass_percent: (PASS_SHARE * 100.0).round() as i64,
        cohort: v.cohort,
    };
    render_form(status, csrf, &page)
}

pub(super) async fn show(
    state: web::Data<AppState>,
    user: PageUser,
    csrf: Csrf,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, PageError> {
    show_page(&state, user.0, &csrf, *id, StatusCode::OK, vec![]).await
}
