//! Admission control for the exam-day spikes: starting and submitting attempts (API and pages)
//! run at most `concurrency` at a time per process; later arrivals wait in arrival order (a
//! fair semaphore), at most `queue` of them. Past that bound a request is answered at once
//! with 503 and `Retry-After`, and nothing is changed, instead of piling into PostgreSQL.
//! API clients retry after the advertised seconds (documented in the spec); a page gets a
//! short page that takes the learner back to where the action started after that time.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{HttpResponse, ResponseError};
use tokio::sync::Semaphore;

use crate::error::AppError;

/// The routes admission control guards (POST only).
pub const GUARDED: [&str; 6] = [
    "/api/v1/attempts",
    "/api/v1/attempts/{id}/submit",
    "/api/v1/cohorts/{id}/exams/{exam}/attempts",
    "/exams/new",
    "/attempts/{id}/submit",
    "/cohorts/{id}/exams/{exam}/start",
];

pub struct Admission {
    metrics: crate::metrics::Metrics,
    permits: Semaphore,
    waiting: AtomicUsize,
    queue: usize,
    retry_after_secs: u64,
}

impl Admission {
    pub fn new(
        metrics: crate::metrics::Metrics,
        concurrency: usize,
        queue: usize,
        retry_after_secs: u64,
    ) -> Arc<Admission> {
        Arc::new(Admission {
            metrics,
            permits: Semaphore::new(concurrency.max(1)),
            waiting: AtomicUsize::new(0),
            queue,
            retry_after_secs: retry_after_secs.max(1),
        })
    }

    /// Requests queued for a permit right now.
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::Relaxed)
    }
}

fn busy(req: &ServiceRequest, secs: u64) -> HttpResponse {
    if req.path().starts_with("/api/") {
        return AppError::Busy {
            retry_after_secs: secs,
        }
        .error_response();
    }
    // a page: explain, and go back to the page the action came from (a GET of the same path
    // shows the form, the summary or the start confirmation again)
    let back = match req.path() {
        "/exams/new" => "/exams/new".to_string(),
        p => p.to_string(),
    };
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"refresh\" content=\"{secs};url={back}\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Busy, retrying</title><link rel=\"stylesheet\" href=\"/static/app.css\"></head>\
         <body><main id=\"main\"><h1>Many learners are starting at once</h1>\
         <p role=\"status\">Nothing was changed. You will be taken back in {secs} seconds to try \
         again, or <a href=\"{back}\">go back now</a>.</p></main></body></html>"
    );
    HttpResponse::ServiceUnavailable()
        .insert_header((header::RETRY_AFTER, secs.to_string()))
        .content_type("text/html; charset=utf-8")
        .body(html)
}

pub async fn admit(
    gate: Arc<Admission>,
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let guarded = req.method() == Method::POST
        && req
            .match_pattern()
            .is_some_and(|p| GUARDED.contains(&p.as_str()));
    if !guarded {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    let permit = match gate.permits.try_acquire() {
        Ok(p) => p,
        Err(_) => {
            // queue, in arrival order, unless the queue is full
            let ahead = gate.waiting.fetch_add(1, Ordering::SeqCst);
            if ahead >= gate.queue {
                gate.waiting.fetch_sub(1, Ordering::SeqCst);
                gate.metrics.admission_rejected.inc();
                let res = busy(&req, gate.retry_after_secs);
                return Ok(req.into_response(res));
            }
            gate.metrics.admission_waiting.inc();
            let p = gate.permits.acquire().await;
            gate.waiting.fetch_sub(1, Ordering::SeqCst);
            gate.metrics.admission_waiting.dec();
            p.expect("the semaphore is never closed")
        }
    };
    let res = next.call(req).await;
    drop(permit);
    Ok(res?.map_into_boxed_body())
}
