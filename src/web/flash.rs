//! Confirmations that survive the redirect after an action ("Exam scheduled."), without
//! JavaScript: the action's 303 sets a short-lived cookie, and the next page shows the message
//! once in the layout's status region (`<!--flash-->` in `base.html`) and clears the cookie.

use actix_web::body::{to_bytes, BoxBody, MessageBody};
use actix_web::cookie::{time::Duration, Cookie, SameSite};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::HttpResponse;

const COOKIE: &str = "exambank_flash";
const PLACEHOLDER: &str = "<!--flash-->";

/// A redirect that shows `message` on the page it leads to.
pub fn see_other_with(to: String, message: &str) -> HttpResponse {
    let mut res = super::see_other(to);
    let cookie = Cookie::build(COOKIE, crate::http::urlencode(message))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .max_age(Duration::seconds(60))
        .finish();
    if let Ok(v) = HeaderValue::from_str(&cookie.to_string()) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 3;
                    }
                    Err(_) => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Shows a pending flash message on the next HTML page that has the placeholder.
pub async fn show_flash(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let message = req.cookie(COOKIE).map(|c| decode(c.value()));
    let res = next.call(req).await?;
    let Some(message) = message else {
        return Ok(res.map_into_boxed_body());
    };
    let is_page = res.status().is_success()
        && res
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    if !is_page {
        return Ok(res.map_into_boxed_body());
    }
    let (req, response) = res.into_parts();
    let (mut head, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body).await else {
        return Ok(ServiceResponse::new(
            req,
            HttpResponse::InternalServerError().finish(),
        ));
    };
    let html = String::from_utf8_lossy(&bytes);
    if !html.contains(PLACEHOLDER) {
        let res = head.set_body(BoxBody::new(bytes));
        return Ok(ServiceResponse::new(req, res));
    }
    let shown = html.replacen(
        PLACEHOLDER,
        &format!(
            "<p class=\"notice\" id=\"flash\" role=\"status\">{}</p>",
            escape(&message)
        ),
        1,
    );
    let clear = Cookie::build(COOKIE, "")
        .path("/")
        .max_age(Duration::ZERO)
        .finish();
    if let Ok(v) = HeaderValue::from_str(&clear.to_string()) {
        head.headers_mut().append(header::SET_COOKIE, v);
    }
    head.headers_mut().remove(header::CONTENT_LENGTH);
    let res = head.set_body(BoxBody::new(shown));
    Ok(ServiceResponse::new(req, res))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip_and_are_escaped() {
        let m = "Exam scheduled: <dva-c02> & more";
        assert_eq!(decode(&crate::http::urlencode(m)), m);
        assert_eq!(escape(m), "Exam scheduled: &lt;dva-c02&gt; &amp; more");
        assert_eq!(decode("100%"), "100%");
        assert_eq!(decode("%é"), "%é", "no panic on a broken escape");
    }
}
