//! The subcommands of the `exambank` binary.

use std::process::ExitCode;

use crate::config::{Cli, Command, DbArgs, LogFormat, ServeArgs};
use crate::startup::Application;

pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let command = cli.command.unwrap_or_else(|| {
        use clap::Parser;
        // `exambank` alone = `exambank serve`, configured from the environment
        match crate::config::Cli::try_parse_from(["exambank", "serve"]) {
            Ok(Cli { command: Some(c) }) => c,
            Ok(_) => unreachable!("serve parses to a command"),
            Err(e) => e.exit(),
        }
    });
    match command {
        Command::Serve(args) => serve(args).await,
        Command::Migrate(db) => {
            crate::telemetry::init(LogFormat::Pretty);
            let pool = connect(&db).await?;
            crate::db::migrate(&pool).await?;
            println!("migrations applied");
            Ok(ExitCode::SUCCESS)
        }
        Command::CheckSeed(dir) => {
            let (bank, problems) = crate::seed::load(&dir.seed_dir);
            for p in &problems {
                println!("{p}");
            }
            if problems.is_empty() {
                println!(
                    "{}: {} questions, {} domains, {} blueprints, {} note files: no problems",
                    dir.seed_dir.display(),
                    bank.questions.len(),
                    bank.domains.len(),
                    bank.blueprints.len(),
                    bank.notes.len()
                );
                Ok(ExitCode::SUCCESS)
            } else {
                eprintln!("{} problem(s)", problems.len());
                Ok(ExitCode::FAILURE)
            }
        }
        Command::Seed(args) => {
            crate::telemetry::init(LogFormat::Pretty);
            let (bank, problems) = crate::seed::load(&args.dir.seed_dir);
            if !problems.is_empty() {
                for p in &problems {
                    eprintln!("{p}");
                }
                anyhow::bail!("{} problem(s) in the bank files; nothing was written (see `exambank check-seed`)", problems.len());
            }
            let pool = connect(&args.db).await?;
            crate::db::migrate(&pool).await?;
            let r = crate::services::seeding::seed(&pool, &bank).await?;
            println!(
                "seeded: {} added, {} new versions, {} retired, {} un-retired, {} unchanged; {} domains and {} blueprints changed",
                r.added, r.new_versions, r.retired, r.unretired, r.unchanged, r.domains_changed, r.blueprints_changed
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::CreateUser(args) => {
            crate::telemetry::init(LogFormat::Pretty);
            let pool = connect(&args.db).await?;
            crate::db::migrate(&pool).await?;
            let input = crate::services::accounts::NewAccount {
                email: args.email,
                password: args.password,
                display_name: args.name,
                role: args.role.into(),
            };
            let user = crate::services::accounts::create_user_cli(&pool, input).await?;
            println!(
                "created {} ({}) with role {}",
                user.email, user.id, user.role
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::ResetPassword(args) => {
            crate::telemetry::init(LogFormat::Pretty);
            let pool = connect(&args.db).await?;
            crate::db::migrate(&pool).await?;
            let link = crate::services::password_resets::issue_cli(
                &pool,
                &args.email,
                args.reset_ttl_minutes,
            )
            .await?;
            println!("one-time password reset link for {}:", link.email);
            println!("{}", link.path);
            println!(
                "valid until {} (open it on this server's address; it works once)",
                link.expires_at.format("%Y-%m-%d %H:%M UTC")
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Calibrate(db) => {
            crate::telemetry::init(LogFormat::Pretty);
            let pool = connect(&db).await?;
            let r = crate::services::calibration::run(&pool)
                .await
                .map_err(|e| anyhow::anyhow!("calibration failed: {e}"))?;
            if r.skipped {
                println!("calibrate: another process is calibrating; nothing done");
                return Ok(ExitCode::SUCCESS);
            }
            println!(
                "calibrate: {} responses from {} learners; {} versions ({} fitted, the rest keep their prior); {} sweeps{}",
                r.responses,
                r.learners,
                r.versions,
                r.fitted,
                r.iterations,
                if r.converged { "" } else { " (not converged)" }
            );
            println!(
                "pilots: {} promoted, {} flagged, {} waiting for responses",
                r.promoted.len(),
                r.flagged.len(),
                r.waiting
            );
            for (q, v, why) in &r.flagged {
                println!("  flagged {q} v{v}: {why}");
            }
            for (slug, theta) in &r.pass_abilities {
                println!("pass ability of {slug}: {theta:.3} logits");
            }
            for fit in &r.readiness {
                match fit.map {
                    Some(m) => println!(
                        "readiness of {}: recalibrated on {} finished attempts (slope {:.3}, intercept {:.3})",
                        fit.blueprint, fit.outcomes, m.slope, m.intercept
                    ),
                    None => println!(
                        "readiness of {}: served as simulated ({} finished attempts: under {}, or no significant miscalibration)",
                        fit.blueprint,
                        fit.outcomes,
                        crate::domain::readiness::recalibration::MIN_OUTCOMES
                    ),
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::CitusDistribute(db) => {
            crate::telemetry::init(LogFormat::Pretty);
            let pool = connect(&db).await?;
            let r = crate::services::citus::distribute(&pool).await?;
            println!(
                "citus {} with {} workers: {} tables placed now, {} already; {} foreign keys re-added",
                r.citus_version,
                r.workers,
                r.created.len(),
                r.already.len(),
                r.foreign_keys
            );
            for f in &r.functions_created {
                println!("delegated {f}");
            }
            for f in &r.functions_already {
                println!("already delegated {f}");
            }
            for (table, kind, group, shards) in &r.shards {
                println!("  {table}: {kind}, co-location {group}, {shards} shard(s)");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Openapi => {
            println!("{}", crate::api::openapi().to_pretty_json()?);
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn connect(db: &DbArgs) -> anyhow::Result<sqlx::PgPool> {
    let pool = crate::db::pool(db)?;
    sqlx::query("SELECT 1")
        .execute(&pool)
        .await
        .map_err(|e| anyhow::anyhow!("cannot reach the database: {e}"))?;
    Ok(pool)
}

async fn serve(args: ServeArgs) -> anyhow::Result<ExitCode> {
    crate::telemetry::init(args.log_format);
    let app = Application::build(args.clone()).await?;
    tracing::info!(addr = %args.addr, port = app.port(), "exambank listening");
    app.run_until_stopped().await?;
    tracing::info!("exambank stopped");
    Ok(ExitCode::SUCCESS)
}
