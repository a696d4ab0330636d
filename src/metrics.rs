//! Prometheus metrics: per-route request counts and latency histograms (actix-web-prom, by the
//! matched route pattern so ids do not explode the label space) plus connection-pool gauges.

use actix_web_prom::{PrometheusMetrics, PrometheusMetricsBuilder};
use prometheus::{
    Encoder, Histogram, HistogramOpts, IntCounterVec, IntGauge, Opts, Registry, TextEncoder,
};
use sqlx::PgPool;

#[derive(Clone)]
pub struct Metrics {
    pub registry: Registry,
    pub http: PrometheusMetrics,
    pool_size: IntGauge,
    pool_idle: IntGauge,
    pool_max: IntGauge,
    /// Answers per `save_answers` batch, and how long a batch takes in the database.
    pub answer_batch_size: Histogram,
    pub answer_batch_seconds: Histogram,
    /// Answer saves that went through a batch, by outcome: written, refused (read again and
    /// saved on its own), failed (the batch failed; saved on its own).
    pub answer_batch_saves: IntCounterVec,
    /// Starts and submits waiting for admission, and those turned away with 503.
    pub admission_waiting: IntGauge,
    pub admission_rejected: IntGauge,
    /// Every pool of this process (one per HTTP worker, and the background one).
    pools: std::sync::Arc<std::sync::Mutex<Vec<PgPool>>>,
}

impl Metrics {
    pub fn new(pool_max: u32) -> anyhow::Result<Self> {
        let registry = Registry::new();
        let http = PrometheusMetricsBuilder::new("exambank")
            .registry(registry.clone())
            .mask_unmatched_patterns("UNMATCHED")
            .buckets(&[
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ])
            .exclude("/metrics")
            .build()
            .map_err(|e| anyhow::anyhow!("metrics: {e}"))?;
        let gauge = |name: &str, help: &str| -> anyhow::Result<IntGauge> {
            let g = IntGauge::new(name, help)?;
            registry.register(Box::new(g.clone()))?;
            Ok(g)
        };
        let answer_batch_size = Histogram::with_opts(
            HistogramOpts::new(
                "exambank_answer_batch_size",
                "Answers written per database call",
            )
            .buckets(vec![1.0, 2.0, 4.0, 8.0, 16.0, 32.0]),
        )?;
        registry.register(Box::new(answer_batch_size.clone()))?;
        let answer_batch_seconds = Histogram::with_opts(
            HistogramOpts::new(
                "exambank_answer_batch_seconds",
                "Time of one answer batch in the database, connection wait included",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
            ]),
        )?;
        registry.register(Box::new(answer_batch_seconds.clone()))?;
        let answer_batch_saves = IntCounterVec::new(
            Opts::new(
                "exambank_answer_batch_saves_total",
                "Answer saves sent in batches, by outcome",
            ),
            &["outcome"],
        )?;
        registry.register(Box::new(answer_batch_saves.clone()))?;
        let m = Metrics {
            answer_batch_size,
            answer_batch_seconds,
            answer_batch_saves,
            admission_waiting: gauge(
                "exambank_admission_waiting",
                "Starts and submits queued for admission",
            )?,
            admission_rejected: gauge(
                "exambank_admission_rejected_total",
                "Starts and submits turned away with 503 (queue full)",
            )?,
            pool_size: gauge("exambank_db_pool_connections", "Open database connections")?,
            pool_idle: gauge(
                "exambank_db_pool_idle_connections",
                "Idle database connections",
            )?,
            pool_max: gauge(
                "exambank_db_pool_max_connections",
                "Most connections the pool opens",
            )?,
            registry,
            http,
            pools: Default::default(),
        };
        m.pool_max.set(pool_max.into());
        Ok(m)
    }

    /// Counts this pool's connections in the gauges.
    pub fn register_pool(&self, pool: PgPool) {
        self.pools
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(pool);
    }

    pub fn render(&self) -> anyhow::Result<String> {
        let (size, idle) = self
            .pools
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .fold((0i64, 0i64), |(s, i), p| {
                (s + i64::from(p.size()), i + p.num_idle() as i64)
            });
        self.pool_size.set(size);
        self.pool_idle.set(idle);
        let mut buf = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut buf)?;
        Ok(String::from_utf8(buf)?)
    }
}
