use std::process::ExitCode;

use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    let _ = dotenvy::dotenv();
    let cli = exambank::config::Cli::parse();
    match exambank::cli::run(cli).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("exambank: {e:#}");
            ExitCode::FAILURE
        }
    }
}
