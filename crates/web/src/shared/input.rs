//! The only way a handler reads a form body or a query string. Every value is cleaned before it is deserialised
//! (NFC, NUL and other control characters removed, see [`motcua_domain::text::clean_input`]), so no form can
//! forget and no database sees a NUL; a malformed request gets a Vietnamese page, never axum's plain text.
//! `axum::Form` and `axum::extract::Query` are refused by clippy (`clippy.toml`) for that reason.

use axum::{
    body::Bytes,
    extract::{FromRequest, FromRequestParts, Request},
    http::{StatusCode, header, request::Parts},
};
use motcua_domain::text::clean_input;
use serde::de::DeserializeOwned;

pub(crate) use crate::error::InputRejection;

/// A form body (`application/x-www-form-urlencoded`), cleaned.
#[derive(Debug, Clone, Default)]
pub(crate) struct Form<T>(pub T);

/// A query string, cleaned.
#[derive(Debug, Clone, Default)]
pub(crate) struct Query<T>(pub T);

/// One value cleaned for its field. A password keeps its code points as typed (only control characters go):
/// it is normalised where it is hashed and checked, and a hash made before normalisation must still see the
/// form the keyboard sent.
fn clean_value(name: &str, value: &str) -> String {
    if name.contains("mat_khau") {
        value.chars().filter(|c| !c.is_control()).collect()
    } else {
        clean_input(value)
    }
}

/// Decode `raw` as `k=v&…`, clean every key and value, and encode it again for serde.
pub(crate) fn cleaned(raw: &[u8]) -> String {
    let mut out = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs(raw) {
        out.append_pair(&k, &v);
    }
    out.finish()
}

/// The cleaned (name, value) pairs of a form body, in order (for pages that re-show what was posted).
pub(crate) fn pairs(raw: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(raw)
        .map(|(k, v)| {
            let name = clean_input(&k);
            let value = clean_value(&name, &v);
            (name, value)
        })
        .collect()
}

pub(crate) fn is_form(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';').next().is_some_and(|m| {
                m.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            })
        })
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Form<T> {
    type Rejection = InputRejection;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_form(request.headers()) {
            return Err(InputRejection::NotAForm);
        }
        let bytes = Bytes::from_request(request, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                InputRejection::TooLarge
            } else {
                InputRejection::Unreadable
            }
        })?;
        serde_urlencoded::from_str(&cleaned(&bytes))
            .map(Form)
            .map_err(|e| InputRejection::Invalid(e.to_string()))
    }
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = InputRejection;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let raw = parts.uri.query().unwrap_or_default();
        serde_urlencoded::from_str(&cleaned(raw.as_bytes()))
            .map(Query)
            .map_err(|e| InputRejection::Invalid(e.to_string()))
    }
}

/// The text of a multipart field, cleaned like any form value.
pub(crate) async fn multipart_text(field: axum::extract::multipart::Field<'_>) -> String {
    clean_input(&field.text().await.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_keeps_its_code_points_but_loses_control_characters() {
        // "ô" then a combining acute, as a composite-mode keyboard sends "ố": not NFC, kept as typed
        let pairs = pairs("mat_khau=%C3%B4%CC%81%00x&ho_ten=%C3%B4%CC%81".as_bytes());
        assert_eq!(pairs[0].1, "\u{f4}\u{301}x");
        assert_eq!(pairs[1].1, "\u{1ed1}");
    }

    #[test]
    fn values_lose_nul_and_keep_their_encoding() {
        let out =
            cleaned(b"ho_ten=Nguy%E1%BB%85n%00+An&ghi_chu=d%C3%B2ng+1%0D%0Ad%C3%B2ng+2&a%00b=1");
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(&out).unwrap();
        assert_eq!(
            pairs,
            vec![
                ("ho_ten".into(), "Nguyễn An".into()),
                ("ghi_chu".into(), "dòng 1\ndòng 2".into()),
                ("ab".into(), "1".into()),
            ]
        );
    }
}
