//! exambank: exam preparation for the AWS Certified Developer - Associate exam.
//!
//! Rooms: `domain` (pure rules), `db` (queries), `services` (use cases), `state` (what the
//! handlers share), `http` (helpers of both front ends), `api` (JSON), `web` (pages), `auth`,
//! `seed` (bank files). See README.md for a tour.

/// mimalloc instead of the system allocator: an answer save allocates and frees many small
/// buffers (JSON, SQL parameters, cached rows), and glibc's malloc took about a third of the
/// server's CPU time in the exams bench.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub mod api;
pub mod auth;
pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod http;
pub mod metrics;
pub mod seed;
pub mod services;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod web;
