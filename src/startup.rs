//! Building and running the application: one function from settings to a bound server.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::{middleware, web, App, HttpServer};
use secrecy::SecretString;
use sqlx::PgPool;
use tracing_actix_web::TracingLogger;
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use crate::api;
use crate::config::{Environment, ServeArgs};
use crate::metrics::Metrics;
use crate::state::AppState;

pub struct Application {
    port: u16,
    server: Server,
}

/// Finalizes attempts past their deadline every `interval` seconds, whether or not anyone reads
/// them. Safe with several processes: each locks what it finalizes with SKIP LOCKED.
fn spawn_sweeper(pool: PgPool, interval: u64, idempotency_ttl_hours: i64, prepare_lead_secs: u64) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(interval.max(1)));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            // cohort exams opening soon: prepare their attempts, a batch at a time
            let mut prepared = 0;
            loop {
                match crate::services::cohorts::prepare_due(&pool, prepare_lead_secs).await {
                    Ok(0) => break,
                    Ok(n) => prepared += n,
                    Err(e) => {
                        tracing::debug!(error = %e, "preparing attempts skipped");
                        break;
                    }
                }
            }
            if prepared > 0 {
                tracing::info!(prepared, "prepared cohort exam attempts");
            }
            match crate::services::attempts::expire_overdue(&pool).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(expired = n, "finalized overdue attempts"),
                Err(e) => tracing::debug!(error = %e, "expiry sweep skipped"),
            }
            match crate::services::idempotency::purge_expired(&pool, idempotency_ttl_hours).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(purged = n, "expired idempotency keys purged"),
                Err(e) => tracing::debug!(error = %e, "idempotency purge skipped"),
            }
        }
    });
}

/// Binds with a listen backlog of 4096 (the kernel caps it at `net.core.somaxconn`). A cohort's
/// synchronized start opens thousands of connections in the same second; std's default
/// backlog of 128 would drop their SYNs and make each wait a 1 s retransmit.
fn bind(addr: std::net::SocketAddr) -> std::io::Result<TcpListener> {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    socket.listen(4096)?;
    Ok(socket.into())
}

/// Calibrates every `interval` seconds (0: never). Several processes may run it: an advisory
/// lock lets one calibrate and the others skip.
fn spawn_calibration(pool: PgPool, interval: u64) {
    if interval == 0 {
        return;
    }
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(interval));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await; // the first tick is immediate: wait one interval after startup
        loop {
            tick.tick().await;
            match crate::services::calibration::run(&pool).await {
                Ok(r) if r.skipped => {}
                Ok(r) => tracing::info!(
                    responses = r.responses,
                    fitted = r.fitted,
                    promoted = r.promoted.len(),
                    flagged = r.flagged.len(),
                    "calibrated"
                ),
                Err(e) => tracing::warn!(error = %e, "calibration failed"),
            }
        }
    });
}

impl Application {
    /// Connects lazily, migrates (when the database is reachable), binds.
    pub async fn build(settings: ServeArgs) -> anyhow::Result<Self> {
        let pool = crate::db::pool(&settings.db)?;
        match crate::db::migrate(&pool).await {
            Ok(()) => {}
            Err(e) => anyhow::bail!("running migrations failed: {e:#}"),
        }
        Self::build_with_pool(settings, pool)
    }

    /// Binds to `settings.addr` (port 0 picks a free port) with an existing pool.
    pub fn build_with_pool(settings: ServeArgs, pool: PgPool) -> anyhow::Result<Self> {
        use secrecy::ExposeSecret;
        let given = settings
            .jwt_secret
            .clone()
            .filter(|s| !s.expose_secret().is_empty());
        let jwt_secret = match (given, settings.env) {
            (Some(s), Environment::Production) if s.expose_secret().len() < 32 => {
                anyhow::bail!("EXAMBANK_JWT_SECRET must be at least 32 bytes in production")
            }
            (Some(s), _) => s,
            (None, Environment::Production) => {
                anyhow::bail!("EXAMBANK_JWT_SECRET is required when EXAMBANK_ENV=production")
            }
            (None, Environment::Development) => {
                tracing::warn!("EXAMBANK_JWT_SECRET is not set: using a random key for this process (development only)");
                SecretString::from(crate::auth::random_token())
            }
        };
        crate::auth::password::set_concurrency(settings.hash_concurrency);
        let listener = bind(settings.addr)?;
        let port = listener.local_addr()?.port();
        let metrics = Metrics::new(settings.db.db_max_connections)?;
        let notes = Arc::new(crate::services::notes::NotesCatalog::load(
            &settings.seed_dir,
        ));
        let state = web::Data::new(AppState {
            notes,
            saves: Arc::new(crate::services::attempts::answer_batch::AnswerBatcher::new(
                pool.clone(),
                metrics.clone(),
                settings.answer_batches,
            )),
            finals: Arc::new(
                crate::services::attempts::finalize_batch::FinalizeBatcher::new(pool.clone()),
            ),
            pool,
            metrics,
            settings: Arc::new(settings.clone()),
            jwt_secret,
            answers: Default::default(),
        });
        spawn_calibration(state.pool.clone(), settings.calibrate_interval_secs);
        spawn_sweeper(
            state.pool.clone(),
            settings.sweep_interval_secs,
            settings.idempotency_ttl_hours,
            settings.prepare_lead_secs,
        );
        state.metrics.register_pool(state.pool.clone());
        // Each HTTP worker is a single-threaded runtime: give it its own pool, so that its
        // connections' I/O is driven by its own reactor rather than another worker's.
        let workers = settings
            .workers
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
            .max(1) as u32;
        let per_worker = (settings.db.db_max_connections / workers).max(1);
        let pool_options = state.pool.options().clone().max_connections(per_worker);
        let connect_options = (*state.pool.connect_options()).clone();
        let openapi = api::openapi();
        // one gate for the whole process: its bound holds across the HTTP workers
        let admission = api::admission::Admission::new(
            state.metrics.clone(),
            settings.admission_concurrency,
            settings.admission_queue,
            settings.admission_retry_after_secs,
        );
        let max_body = settings.max_body_bytes;

        let mut server = HttpServer::new(move || {
            let pool = pool_options
                .clone()
                .connect_lazy_with(connect_options.clone());
            state.metrics.register_pool(pool.clone());
            let state = web::Data::new(AppState {
                saves: Arc::new(crate::services::attempts::answer_batch::AnswerBatcher::new(
                    pool.clone(),
                    state.metrics.clone(),
                    state.settings.answer_batches,
                )),
                finals: Arc::new(
                    crate::services::attempts::finalize_batch::FinalizeBatcher::new(pool.clone()),
                ),
                pool,
                notes: state.notes.clone(),
                metrics: state.metrics.clone(),
                settings: state.settings.clone(),
                jwt_secret: state.jwt_secret.clone(),
                answers: state.answers.clone(),
            });
            let (app, _) = App::new()
                .into_utoipa_app()
                .openapi(<api::ApiDoc as utoipa::OpenApi>::openapi())
                .app_data(state.clone())
                .app_data(api::json_config(max_body))
                // raw bodies (bank imports) may be larger than JSON requests
                .app_data(web::PayloadConfig::new(max_body * 16))
                .app_data(api::query_config())
                .app_data(api::path_config())
                .configure(api::ops::configure)
                .service(utoipa_actix_web::scope("/api/v1").configure(api::configure_v1))
                .split_for_parts();
            app.route("/metrics", web::get().to(api::ops::metrics))
                .configure(crate::web::configure)
                .service(
                    SwaggerUi::new("/docs/{_:.*}").url("/api-docs/openapi.json", openapi.clone()),
                )
                .default_service(web::to(api::not_found))
                .wrap({
                    let gate = admission.clone();
                    middleware::from_fn(move |req, next| {
                        api::admission::admit(gate.clone(), req, next)
                    })
                })
                .wrap(middleware::from_fn(api::idempotency::idempotency))
                .wrap(middleware::from_fn(crate::web::flash::show_flash))
                .wrap(api::problem_for_framework_errors())
                .wrap(middleware::from_fn(crate::web::error_pages))
                .wrap(middleware::from_fn(crate::web::security_headers))
                .wrap(middleware::from_fn(crate::telemetry::request_id_header))
                .wrap(state.metrics.http.clone())
                .wrap(TracingLogger::default())
        })
        .listen(listener)?
        .shutdown_timeout(10);
        if let Some(w) = settings.workers {
            server = server.workers(w);
        }
        Ok(Self {
            port,
            server: server.run(),
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Runs until SIGTERM/SIGINT, then stops accepting and finishes in-flight requests.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}
