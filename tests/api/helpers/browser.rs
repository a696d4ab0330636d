//! Cookie and page helpers: a browser-like HTTP client, CSRF tokens, logging in by the form.

use reqwest::{Client, StatusCode};

use super::{TestApp, PASSWORD};

/// A browser-like client with a cookie jar.
pub fn browser() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

pub fn csrf_of(html: &str) -> String {
    let at = html
        .find("name=\"csrf_token\" value=\"")
        .expect("form has a csrf token")
        + 25;
    html[at..].split('"').next().unwrap().to_string()
}

/// Logs a browser in through the login form.
pub async fn browser_login(app: &TestApp, b: &Client, email: &str) {
    let html = b
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let r = b
        .post(app.url("/login"))
        .form(&[
            ("csrf_token", csrf_of(&html).as_str()),
            ("email", email),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "login {email}");
}
