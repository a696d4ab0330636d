//! Command line and environment configuration.
//!
//! Every setting can come from the environment (a `.env` file is read first if present);
//! `exambank serve --help` lists them all.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use secrecy::SecretString;

#[derive(Debug, Parser)]
#[command(
    name = "exambank",
    version,
    about = "Exam-prep server for the AWS Certified Developer - Associate exam"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server (the default). Runs pending migrations first.
    Serve(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate(DbArgs),
    /// Load the bank files idempotently: new questions are added, changed ones get a new
    /// version, removed ones are retired.
    Seed(SeedArgs),
    /// Validate the bank files; prints every problem as file:line: message.
    CheckSeed(SeedDirArgs),
    /// Create an account (the first admin, instructors).
    CreateUser(CreateUserArgs),
    /// Issue a one-time password reset link for an account (prints its path and expiry).
    ResetPassword(ResetPasswordArgs),
    /// Fit a Rasch difficulty per question version from learners' answers, promote or flag
    /// pilot versions, and refresh each blueprint's pass ability (docs/measurement.md). The
    /// server also does this every EXAMBANK_CALIBRATE_INTERVAL_SECS.
    Calibrate(DbArgs),
    /// On a Citus coordinator (the extension created, the coordinator and the workers
    /// registered, every migration applied): make the bank, accounts and cohorts reference
    /// tables, distribute the learners' tables by user_id in one co-location group, and
    /// delegate save_answer to the learner's worker (docs/scaling.md). Idempotent.
    CitusDistribute(DbArgs),
    /// Print the OpenAPI document (regenerate openapi/openapi.json with it).
    Openapi,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Environment {
    Development,
    Production,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone, Args)]
pub struct DbArgs {
    /// PostgreSQL connection string.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: String,
    /// Most connections the pool opens (per process).
    #[arg(long, env = "EXAMBANK_DB_MAX_CONNECTIONS", default_value_t = 16)]
    pub db_max_connections: u32,
    /// Seconds a request waits for a database connection before answering 503.
    #[arg(long, env = "EXAMBANK_DB_ACQUIRE_TIMEOUT_SECS", default_value_t = 3)]
    pub db_acquire_timeout_secs: u64,
}

impl DbArgs {
    pub fn acquire_timeout(&self) -> Duration {
        Duration::from_secs(self.db_acquire_timeout_secs.max(1))
    }
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// Listen address.
    #[arg(long, env = "EXAMBANK_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// `development` allows a missing JWT secret (a random one per process is used);
    /// `production` requires it.
    #[arg(long, env = "EXAMBANK_ENV", value_enum, default_value_t = Environment::Development)]
    pub env: Environment,
    /// Key that signs access tokens (at least 32 bytes). Required in production.
    #[arg(long, env = "EXAMBANK_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<SecretString>,
    /// Directory of the bank files (questions, notes, blueprints).
    #[arg(long, env = "EXAMBANK_SEED_DIR", default_value = "seed")]
    pub seed_dir: PathBuf,
    /// Worker threads for HTTP (default: one per core).
    #[arg(long, env = "EXAMBANK_WORKERS")]
    pub workers: Option<usize>,
    /// Answer-save batches each HTTP worker keeps in the database at once (answers arriving
    /// meanwhile queue and go together in the next batch).
    #[arg(long, env = "EXAMBANK_ANSWER_BATCHES", default_value_t = 2)]
    pub answer_batches: usize,
    /// Largest accepted JSON body, in bytes.
    #[arg(long, env = "EXAMBANK_MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    pub max_body_bytes: usize,
    /// Log format.
    #[arg(long, env = "EXAMBANK_LOG_FORMAT", value_enum, default_value_t = LogFormat::Pretty)]
    pub log_format: LogFormat,
    /// Seconds between sweeps that finalize attempts past their deadline.
    #[arg(long, env = "EXAMBANK_SWEEP_INTERVAL_SECS", default_value_t = 15)]
    pub sweep_interval_secs: u64,
    /// Seconds ahead of a cohort exam's opening that its members' attempts are prepared (by the
    /// sweeper, and at join time for late members), so that starting only stamps the clock.
    #[arg(long, env = "EXAMBANK_PREPARE_LEAD_SECS", default_value_t = 3600)]
    pub prepare_lead_secs: u64,
    /// Seconds between calibration runs (Rasch difficulties, pilot promotion); 0 turns the
    /// periodic job off (`exambank calibrate` still works). One process at a time runs it.
    #[arg(long, env = "EXAMBANK_CALIBRATE_INTERVAL_SECS", default_value_t = 3600)]
    pub calibrate_interval_secs: u64,
    /// Login attempts allowed per account within the rate-limit window.
    #[arg(long, env = "EXAMBANK_LOGIN_LIMIT_PER_ACCOUNT", default_value_t = 10)]
    pub login_limit_per_account: i32,
    /// Login and registration attempts allowed per client address within the window.
    #[arg(long, env = "EXAMBANK_LOGIN_LIMIT_PER_ADDRESS", default_value_t = 100)]
    pub login_limit_per_address: i32,
    /// Length of the rate-limit window in seconds.
    #[arg(long, env = "EXAMBANK_RATE_WINDOW_SECS", default_value_t = 300)]
    pub rate_window_secs: i64,
    /// Password hashes computed at once (default: all cores but one), so logins cannot starve
    /// other requests of CPU.
    #[arg(long, env = "EXAMBANK_HASH_CONCURRENCY")]
    pub hash_concurrency: Option<usize>,
    /// Seconds after a refresh token's rotation during which presenting it again (a client's
    /// concurrent refresh) yields another pair of the same login instead of revoking the login.
    #[arg(long, env = "EXAMBANK_REFRESH_GRACE_SECS", default_value_t = 30)]
    pub refresh_grace_secs: i64,
    /// Hours an Idempotency-Key (and the response it recorded) is kept.
    #[arg(long, env = "EXAMBANK_IDEMPOTENCY_TTL_HOURS", default_value_t = 24)]
    pub idempotency_ttl_hours: i64,
    /// Minutes a password reset link (issued by an admin) stays valid.
    #[arg(long, env = "EXAMBANK_RESET_TTL_MINUTES", default_value_t = 60, value_parser = clap::value_parser!(i64).range(1..=10080))]
    pub reset_ttl_minutes: i64,
    /// Starts and submits of attempts (API and pages) running at once per process; more wait
    /// in arrival order (admission control for exam-day spikes).
    #[arg(long, env = "EXAMBANK_ADMISSION_CONCURRENCY", default_value_t = 8)]
    pub admission_concurrency: usize,
    /// Starts and submits allowed to wait for their turn; past that they get 503 + Retry-After.
    #[arg(long, env = "EXAMBANK_ADMISSION_QUEUE", default_value_t = 4000)]
    pub admission_queue: usize,
    /// The Retry-After (seconds) of a start or submit turned away by admission control.
    #[arg(long, env = "EXAMBANK_ADMISSION_RETRY_AFTER_SECS", default_value_t = 2)]
    pub admission_retry_after_secs: u64,
    /// Trust the first address of X-Forwarded-For as the client address (behind a proxy).
    #[arg(long, env = "EXAMBANK_TRUST_PROXY", default_value_t = false)]
    pub trust_proxy: bool,
}

#[derive(Debug, Clone, Args)]
pub struct SeedDirArgs {
    /// Directory of the bank files.
    #[arg(long, env = "EXAMBANK_SEED_DIR", default_value = "seed")]
    pub seed_dir: PathBuf,
}

#[derive(Debug, Clone, Args)]
pub struct SeedArgs {
    #[command(flatten)]
    pub db: DbArgs,
    #[command(flatten)]
    pub dir: SeedDirArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RoleArg {
    Learner,
    Instructor,
    Admin,
}

#[derive(Debug, Clone, Args)]
pub struct CreateUserArgs {
    #[command(flatten)]
    pub db: DbArgs,
    #[arg(long)]
    pub email: String,
    /// The password (12 to 128 characters). Prefer EXAMBANK_NEW_PASSWORD to keep it out of
    /// the shell history.
    #[arg(long, env = "EXAMBANK_NEW_PASSWORD", hide_env_values = true)]
    pub password: SecretString,
    #[arg(long)]
    pub name: String,
    #[arg(long, value_enum, default_value_t = RoleArg::Learner)]
    pub role: RoleArg,
}

#[derive(Debug, Clone, Args)]
pub struct ResetPasswordArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// The account's email.
    #[arg(long)]
    pub email: String,
    /// Minutes the link stays valid.
    #[arg(long, env = "EXAMBANK_RESET_TTL_MINUTES", default_value_t = 60, value_parser = clap::value_parser!(i64).range(1..=10080))]
    pub reset_ttl_minutes: i64,
}

impl From<&ServeArgs> for crate::services::sessions::Limits {
    fn from(s: &ServeArgs) -> Self {
        crate::services::sessions::Limits {
            per_account: s.login_limit_per_account,
            per_address: s.login_limit_per_address,
            window_secs: s.rate_window_secs,
        }
    }
}

impl From<RoleArg> for crate::domain::user::Role {
    fn from(r: RoleArg) -> Self {
        use crate::domain::user::Role;
        match r {
            RoleArg::Learner => Role::Learner,
            RoleArg::Instructor => Role::Instructor,
            RoleArg::Admin => Role::Admin,
        }
    }
}
