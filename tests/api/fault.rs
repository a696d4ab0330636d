//! Stopping PostgreSQL under a running server: /readyz answers 503 and API calls answer 503
//! problem+json within a few seconds; starting it again recovers without a restart.

use std::process::Command;
use std::time::{Duration, Instant};

use reqwest::StatusCode;

use crate::helpers::{free_port, manifest_dir, problem, serve_args, TempDir, TestApp};

/// A private cluster for this test only (stopping the shared one would break other tests).
struct Cluster {
    dir: TempDir,
    port: u16,
}

impl Cluster {
    fn pg(&self, args: &[&str]) {
        let out = Command::new(manifest_dir().join("scripts/pg.sh"))
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "pg.sh {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    fn start(&self) {
        self.pg(&[
            "start",
            self.dir.0.to_str().unwrap(),
            &self.port.to_string(),
        ]);
    }
    fn stop(&self) {
        self.pg(&["stop", self.dir.0.to_str().unwrap()]);
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop();
    }
}

#[tokio::test]
async fn database_outage_gives_fast_503s_and_recovers() {
    let cluster = Cluster {
        dir: TempDir::new(),
        port: free_port(),
    };
    cluster.start();
    let url = format!("postgres://postgres@127.0.0.1:{}/postgres", cluster.port);
    let mut args = serve_args(&["--db-acquire-timeout-secs", "2"]);
    args.db.database_url = url;
    let pool = exambank::db::pool(&args.db).unwrap();
    exambank::db::migrate(&pool).await.unwrap();
    let app = TestApp::spawn_with(pool, &["--db-acquire-timeout-secs", "2"]).await;
    let ann = app.register("ann@example.com").await;
    assert_eq!(
        app.get("/readyz").send().await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(
        app.get_as(&ann, "/api/v1/domains").await.status(),
        StatusCode::OK
    );

    cluster.stop();
    let t = Instant::now();
    assert_eq!(
        app.get("/readyz").send().await.unwrap().status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    let r = app.get_as(&ann, "/api/v1/domains").await;
    let body = problem(r, 503).await;
    assert!(body["detail"].as_str().unwrap().contains("database"));
    assert!(
        t.elapsed() < Duration::from_secs(6),
        "503s came within a few seconds: {:?}",
        t.elapsed()
    );
    // the server itself stays up
    assert_eq!(
        app.get("/healthz").send().await.unwrap().status(),
        StatusCode::OK
    );

    cluster.start();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if app.get("/readyz").send().await.unwrap().status() == StatusCode::OK {
            break;
        }
        assert!(Instant::now() < deadline, "did not recover");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        app.get_as(&ann, "/api/v1/domains").await.status(),
        StatusCode::OK
    );
}
