//! Article bodies: the safe subset of HTML an editor may write (paragraphs, headings, lists, links, emphasis,
//! quotations, tables, images from the portal's own article images), cleaned on save by ammonia, a maintained
//! sanitiser built on a real HTML parser. Everything else goes: scripts, styles, event handlers, frames, forms,
//! `javascript:` and `data:` links, images from elsewhere. The result is what is stored and shown as it is.

use std::collections::{HashMap, HashSet};

/// Where the portal serves article images; an image from anywhere else is dropped.
pub const IMAGE_PATH: &str = "/anh-bai-viet/";

const TAGS: &[&str] = &[
    "p",
    "br",
    "h2",
    "h3",
    "h4",
    "ul",
    "ol",
    "li",
    "a",
    "strong",
    "b",
    "em",
    "i",
    "u",
    "blockquote",
    "img",
    "figure",
    "figcaption",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "caption",
    "hr",
];

/// The cleaned HTML of an article body.
pub fn sanitize(html: &str) -> String {
    let tags: HashSet<&str> = TAGS.iter().copied().collect();
    let mut attributes: HashMap<&str, HashSet<&str>> = HashMap::new();
    attributes.insert("a", ["href", "title"].into_iter().collect());
    attributes.insert(
        "img",
        ["src", "alt", "width", "height"].into_iter().collect(),
    );
    attributes.insert("th", ["colspan", "rowspan", "scope"].into_iter().collect());
    attributes.insert("td", ["colspan", "rowspan"].into_iter().collect());
    attributes.insert("ol", ["start"].into_iter().collect());
    ammonia::Builder::empty()
        .tags(tags)
        .tag_attributes(attributes)
        .url_schemes(["http", "https", "mailto", "tel"].into_iter().collect())
        .url_relative(ammonia::UrlRelative::PassThrough)
        .link_rel(Some("noopener noreferrer"))
        .attribute_filter(|element, attribute, value| match (element, attribute) {
            ("img", "src") if !is_article_image(value) => None,
            ("img", "width" | "height") if !value.bytes().all(|b| b.is_ascii_digit()) => None,
            ("a", "href") if value.trim_start().starts_with("//") => None,
            _ => Some(value.into()),
        })
        .clean(html)
        .to_string()
}

/// `/anh-bai-viet/{uuid}.jpg` or `.png`, exactly: the addresses the portal gives uploaded images (nothing that a
/// browser could resolve elsewhere, such as `%2e%2e`).
fn is_article_image(src: &str) -> bool {
    let Some(name) = src.strip_prefix(IMAGE_PATH) else {
        return false;
    };
    let Some((id, extension)) = name.split_once('.') else {
        return false;
    };
    id.len() == 36
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b) || b == b'-')
        && matches!(extension, "jpg" | "png")
}

/// The text of an article body without its markup (its length, the feed's summary).
pub fn plain_text(html: &str) -> String {
    let cleaned = ammonia::Builder::empty().clean(html).to_string();
    // ammonia leaves text escaped; read the few entities it writes back
    cleaned
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Vectors of the OWASP XSS filter evasion cheat sheet, and a few of its kind: none may leave a script, an
    /// event handler or a script URL in the page.
    const VECTORS: &[&str] = &[
        "<SCRIPT SRC=https://cdn.jsdelivr.net/gh/Moksh45/host-xss.rocks/index.js></SCRIPT>",
        "javascript:/*--></title></style></textarea></script></xmp><svg/onload='+/\"/+/onmouseover=1/+/[*/[]/+alert(1)//'>",
        "<IMG SRC=\"javascript:alert('XSS');\">",
        "<IMG SRC=javascript:alert('XSS')>",
        "<IMG SRC=JaVaScRiPt:alert('XSS')>",
        "<IMG SRC=`javascript:alert(\"RSnake says, 'XSS'\")`>",
        "<a onmouseover=\"alert(document.cookie)\">xxs link</a>",
        "<IMG \"\"\"><SCRIPT>alert(\"XSS\")</SCRIPT>\"\\>",
        "<IMG SRC=# onmouseover=\"alert('xxs')\">",
        "<IMG SRC=/ onerror=\"alert(String.fromCharCode(88,83,83))\"></img>",
        "<img src=x onerror=\"&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105&#0000112&#0000116&#0000058&#0000097&#0000108&#0000101&#0000114&#0000116&#0000040&#0000039&#0000088&#0000083&#0000083&#0000039&#0000041\">",
        "<a href=\"&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;&#97;&#108;&#101;&#114;&#116;&#40;&#39;&#88;&#83;&#83;&#39;&#41;\">Click Me!</a>",
        "<a href=\"jav&#x09;ascript:alert('XSS');\">Click Me!</a>",
        "<a href=\"jav&#x0A;ascript:alert('XSS');\">Click Me!</a>",
        "<a href=\" &#14;  javascript:alert('XSS');\">Click Me!</a>",
        "<SCRIPT/XSS SRC=\"http://xss.rocks/xss.js\"></SCRIPT>",
        "<BODY onload!#$%&()*~+-_.,:;?@[/|\\]^`=alert(\"XSS\")>",
        "<<SCRIPT>alert(\"XSS\");//\\<</SCRIPT>",
        "<SCRIPT SRC=http://xss.rocks/xss.js?< B >",
        "<IMG SRC=\"`<javascript:alert>`('XSS')\"",
        "</TITLE><SCRIPT>alert(\"XSS\");</SCRIPT>",
        "<INPUT TYPE=\"IMAGE\" SRC=\"javascript:alert('XSS');\">",
        "<BODY BACKGROUND=\"javascript:alert('XSS')\">",
        "<IMG DYNSRC=\"javascript:alert('XSS')\">",
        "<STYLE>li {list-style-image: url(\"javascript:alert('XSS')\");}</STYLE><UL><LI>XSS</br>",
        "<svg/onload=alert('XSS')>",
        "<BGSOUND SRC=\"javascript:alert('XSS');\">",
        "<LINK REL=\"stylesheet\" HREF=\"javascript:alert('XSS');\">",
        "<META HTTP-EQUIV=\"refresh\" CONTENT=\"0;url=javascript:alert('XSS');\">",
        "<IFRAME SRC=\"javascript:alert('XSS');\"></IFRAME>",
        "<FRAMESET><FRAME SRC=\"javascript:alert('XSS');\"></FRAMESET>",
        "<TABLE BACKGROUND=\"javascript:alert('XSS')\">",
        "<TABLE><TD BACKGROUND=\"javascript:alert('XSS')\">",
        "<DIV STYLE=\"background-image: url(javascript:alert('XSS'))\">",
        "<DIV STYLE=\"width: expression(alert('XSS'));\">",
        "<BASE HREF=\"javascript:alert('XSS');//\">",
        "<OBJECT TYPE=\"text/x-scriptlet\" DATA=\"http://xss.rocks/scriptlet.html\"></OBJECT>",
        "<EMBED SRC=\"data:image/svg+xml;base64,PHN2ZyB4bWxuczpzdmc9Imh0dH A6Ly93d3cudzMub3JnLzIwMDAvc3ZnIiB4bWxucz0iaHR0cDovL3d3dy53My5vcmcv MjAwMC9zdmciIHhtbG5zOnhsaW5rPSJodHRwOi8vd3d3LnczLm9yZy8xOTk5L3hs aW5rIiB2ZXJzaW9uPSIxLjAiIHg9IjAiIHk9IjAiIHdpZHRoPSIxOTQiIGhlaWdodD0iMjAw IiBpZD0ieHNzIj48c2NyaXB0IHR5cGU9InRleHQvZWNtYXNjcmlwdCI+YWxlcnQoIlh TUyIpOzwvc2NyaXB0Pjwvc3ZnPg==\" type=\"image/svg+xml\" AllowScriptAccess=\"always\"></EMBED>",
        "<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">x</a>",
        "<a href=\"vbscript:msgbox(1)\">x</a>",
        "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph></table></mtext></math>",
        "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">",
        "<form action=\"javascript:alert(1)\"><button>x</button></form>",
    ];

    #[test]
    fn no_cheat_sheet_vector_survives() {
        for vector in VECTORS {
            let clean = sanitize(vector).to_ascii_lowercase();
            // elements that run or restyle: never there (text is escaped, so a raw `<` starts a real tag)
            for bad in [
                "<script", "<iframe", "<style", "<svg", "<object", "<embed", "<form", "<base",
                "<meta", "<link", "<math", "<input", "<body",
            ] {
                assert!(!clean.contains(bad), "{vector:?} left {bad:?}: {clean:?}");
            }
            // inside the tags that stay: no handler, no style, no script or data address
            for tag in clean
                .split('<')
                .skip(1)
                .map(|t| t.split('>').next().unwrap_or(""))
            {
                for bad in ["javascript:", "vbscript:", "data:", "style="] {
                    assert!(!tag.contains(bad), "{vector:?} left {bad:?} in <{tag}>");
                }
                assert!(
                    !tag.split_whitespace().skip(1).any(|a| a.starts_with("on")),
                    "{vector:?} left a handler in <{tag}>"
                );
            }
        }
    }

    #[test]
    fn the_formatting_editors_use_stays() {
        let html = "<h2>Hồ sơ</h2><p>Nộp <strong>trực tuyến</strong> tại <a href=\"/thu-tuc/1.0\">đây</a>.</p>\
                    <ul><li>một</li></ul><p><img src=\"/anh-bai-viet/0192f0c4-7a1e-7000-8000-00000000abcd.png\" alt=\"Ảnh\"></p>";
        let clean = sanitize(html);
        assert!(clean.contains("<h2>Hồ sơ</h2>"), "{clean}");
        assert!(clean.contains("<strong>trực tuyến</strong>"), "{clean}");
        assert!(
            clean.contains("<a href=\"/thu-tuc/1.0\" rel=\"noopener noreferrer\">đây</a>"),
            "{clean}"
        );
        assert!(clean.contains("<li>một</li>"), "{clean}");
        assert!(
            clean.contains(
                "<img src=\"/anh-bai-viet/0192f0c4-7a1e-7000-8000-00000000abcd.png\" alt=\"Ảnh\">"
            ),
            "{clean}"
        );
    }

    #[test]
    fn images_from_elsewhere_and_protocol_relative_links_go() {
        let clean = sanitize(
            "<img src=\"https://evil.example/x.png\"><img src=\"/anh-bai-viet/../tep/x\">\
             <img src=\"/anh-bai-viet/%2e%2e/tep/x\"><a href=\"//evil.example\">x</a>",
        );
        assert!(!clean.contains("evil"), "{clean}");
        assert!(!clean.contains("src"), "{clean}");
    }

    #[test]
    fn plain_text_has_no_markup() {
        assert_eq!(
            plain_text("<p>A &amp; B <b>đậm</b></p><script>x</script>"),
            "A & B đậm"
        );
    }
}
