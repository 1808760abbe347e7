//! Building links and download headers: query strings, RFC 6266 file names, content types by extension.

/// Percent-encode a query value (RFC 3986 unreserved characters stay as they are).
pub(crate) fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Where the form template of a case's component (`index` from 0) is downloaded.
pub(crate) fn template_href(procedure: &str, case: &str, index: usize) -> String {
    format!("/thu-tuc/{procedure}/mau/{case}/{}", index + 1)
}

/// `path?k=v&…` with encoded values; just `path` when there are none.
pub(crate) fn with_query(path: &str, pairs: &[(&str, String)]) -> String {
    if pairs.is_empty() {
        return path.to_string();
    }
    let query: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect();
    format!("{path}?{}", query.join("&"))
}

/// `attachment` with an ASCII fallback name (diacritics folded, unsafe characters replaced) and the exact
/// UTF-8 name in `filename*` (RFC 6266, RFC 5987).
/// Links of a paged list: the first, the last and those around the current one as (number, href, current);
/// none when everything fits on one page.
pub(crate) fn page_links(
    page_count: u64,
    current: u64,
    href: impl Fn(u64) -> String,
) -> Vec<(u64, String, bool)> {
    if page_count <= 1 {
        return Vec::new();
    }
    (1..=page_count)
        .filter(|n| *n == 1 || *n == page_count || n.abs_diff(current) <= 3)
        .map(|n| (n, href(n), n == current))
        .collect()
}

pub(crate) fn content_disposition(name: &str) -> String {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_control() || matches!(c, '/' | '\\' | '"' | ';') {
                '_'
            } else {
                c
            }
        })
        .collect();
    let ascii: String = fold_ascii(&safe);
    format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{}",
        encode(&safe)
    )
}

fn fold_ascii(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for token_char in name.chars() {
        let folded = motcua_search::fold(&token_char.to_string());
        // keep the letter's case where the fold did not change the letter itself
        let folded = if token_char.is_uppercase() {
            folded.to_uppercase()
        } else {
            folded
        };
        for c in folded.chars() {
            out.push(if c.is_ascii() && !c.is_ascii_control() {
                c
            } else {
                '_'
            });
        }
    }
    out
}

/// Content type of a downloadable file, from its extension.
pub(crate) fn content_type_for(name: &str) -> &'static str {
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "pdf" => "application/pdf",
        "doc" => "application/msword",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xls" => "application/vnd.ms-excel",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "odt" => "application/vnd.oasis.opendocument.text",
        "rtf" => "application/rtf",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// Paths served without the database whatever the breaker says, or (the readiness probe) that answer an outage
/// in their own JSON.
pub(crate) fn needs_no_database(path: &str) -> bool {
    matches!(path, "/healthz" | "/readyz") || path.starts_with("/static/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vietnamese_file_names_get_an_ascii_fallback_and_the_exact_name() {
        let header = content_disposition("Tờ khai đăng ký khai sinh.rtf");
        assert_eq!(
            header,
            "attachment; filename=\"To khai dang ky khai sinh.rtf\"; \
             filename*=UTF-8''T%E1%BB%9D%20khai%20%C4%91%C4%83ng%20k%C3%BD%20khai%20sinh.rtf"
        );
        assert_eq!(
            content_disposition("Đơn \"x\";\r\n.pdf"),
            "attachment; filename=\"Don _x____.pdf\"; filename*=UTF-8''%C4%90%C6%A1n%20_x____.pdf"
        );
    }

    #[test]
    fn content_types_by_extension() {
        assert_eq!(
            content_type_for("a.DOCX"),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        );
        assert_eq!(content_type_for("mau.rtf"), "application/rtf");
        assert_eq!(content_type_for("noext"), "application/octet-stream");
    }

    #[test]
    fn query_strings_are_encoded() {
        assert_eq!(
            with_query("/thu-tuc", &[("q", "khai sinh & kết hôn".into())]),
            "/thu-tuc?q=khai%20sinh%20%26%20k%E1%BA%BFt%20h%C3%B4n"
        );
        assert_eq!(with_query("/thu-tuc", &[]), "/thu-tuc");
    }
}
