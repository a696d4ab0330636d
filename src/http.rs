//! HTTP helpers shared by the JSON API (api/) and the pages (web/).

use std::net::IpAddr;

use actix_web::{HttpRequest, HttpResponse};

/// The client's address: the TCP peer, or the first X-Forwarded-For hop when configured to
/// trust a proxy.
pub fn client_ip(req: &HttpRequest, trust_proxy: bool) -> IpAddr {
    if trust_proxy {
        if let Some(ip) = req
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .and_then(|v| v.trim().parse().ok())
        {
            return ip;
        }
    }
    req.peer_addr()
        .map(|a| a.ip())
        .unwrap_or(IpAddr::from([127, 0, 0, 1]))
}

/// Percent-encodes everything but unreserved characters and `/` (query values, `next` paths).
pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A CSV download: `text/csv` in UTF-8, as an attachment named `filename` (the cohort results
/// table, from the API and the pages alike).
pub fn csv_attachment(filename: &str, body: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "content-disposition",
            format!("attachment; filename=\"{filename}\""),
        ))
        .body(body)
}
