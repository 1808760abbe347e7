//! News, guidance and notices on the portal: their categories, the editorial states and the moves between them,
//! and what a draft, a reader's vote and a reader's comment must be. Who may make a move is in `policy`.

use time::OffsetDateTime;
use uuid::Uuid;

use crate::text::normalize;

/// Where an article is listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Category {
    News,
    Guidance,
    Notice,
}

impl Category {
    pub const ALL: [Category; 3] = [Category::News, Category::Guidance, Category::Notice];

    /// In addresses and the database.
    pub fn code(self) -> &'static str {
        match self {
            Category::News => "tin-tuc",
            Category::Guidance => "huong-dan",
            Category::Notice => "thong-bao",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Category::News => "Tin tức",
            Category::Guidance => "Hướng dẫn",
            Category::Notice => "Thông báo",
        }
    }

    pub fn parse(code: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.code() == code)
    }
}

/// Where the editors' copy of an article stands. What readers see is the approved version ("live"), kept apart:
/// editing a published article makes a new draft while readers keep the approved text until the next approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// Being written.
    Draft,
    /// Sent to the head editor.
    Submitted,
    /// Sent back by the head editor with a reason.
    Returned,
    /// Approved: this version is (or at its publish time becomes) what readers see.
    Approved,
}

impl Status {
    pub const ALL: [Status; 4] = [
        Status::Draft,
        Status::Submitted,
        Status::Returned,
        Status::Approved,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Submitted => "submitted",
            Status::Returned => "returned",
            Status::Approved => "approved",
        }
    }

    pub fn parse(code: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.code() == code)
    }

    pub fn label(self) -> &'static str {
        match self {
            Status::Draft => "Bản nháp",
            Status::Submitted => "Chờ duyệt",
            Status::Returned => "Bị trả lại",
            Status::Approved => "Đã duyệt",
        }
    }

    /// The state after `step`, or `None` when the step cannot be taken from here.
    pub fn after(self, step: Step) -> Option<Status> {
        use Status::*;
        match (self, step) {
            // saving changes makes a draft of any copy: a submitted one comes back from review, an approved one
            // starts its next version (readers keep the approved text)
            (_, Step::Save) => Some(Draft),
            (Draft | Returned, Step::Submit) => Some(Submitted),
            (Submitted, Step::Approve) => Some(Approved),
            (Submitted, Step::Return) => Some(Returned),
            _ => None,
        }
    }
}

/// A move of the editorial work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Save,
    Submit,
    Approve,
    Return,
}

/// The longest title, summary and body (in characters of text, markup not counted for the body).
pub const MAX_TITLE: usize = 200;
pub const MAX_SUMMARY: usize = 600;
pub const MAX_BODY_TEXT: usize = 60_000;
pub const MAX_BODY_HTML: usize = 200_000;

/// The address of an article: its title without marks, words joined by `-`, and the start of its id so two
/// articles of one title never share it. It does not change when the title is edited later.
pub fn slug(folded_title: &str, id: Uuid) -> String {
    let mut words = String::new();
    for word in folded_title
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if words.len() + word.len() > 80 {
            break;
        }
        if !words.is_empty() {
            words.push('-');
        }
        words.push_str(word);
    }
    let id = id.simple().to_string();
    // v7 ids start with the time: take the random end
    let tail = &id[id.len() - 6..];
    if words.is_empty() {
        format!("bai-viet-{tail}")
    } else {
        format!("{words}-{tail}")
    }
}

/// A reader's stars, 1 to 5.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stars(u8);

impl Stars {
    pub fn parse(input: &str) -> Option<Stars> {
        match input.trim().parse::<u8>() {
            Ok(n @ 1..=5) => Some(Stars(n)),
            _ => None,
        }
    }

    pub fn get(self) -> u8 {
        self.0
    }
}

/// "4,3/5 — 27 lượt đánh giá", or that nobody has rated yet.
pub fn rating_label(sum: u64, count: u64) -> String {
    if count == 0 {
        return "Chưa có lượt đánh giá".into();
    }
    format!(
        "{}/5 — {} lượt đánh giá",
        average_label(sum, count),
        crate::money::grouped(count)
    )
}

/// The average to one decimal with a decimal comma ("4,3"), rounded half up.
pub fn average_label(sum: u64, count: u64) -> String {
    if count == 0 {
        return "0".into();
    }
    let tenths = (sum * 10 * 2 + count) / (count * 2);
    format!("{},{}", tenths / 10, tenths % 10)
}

/// What a comment is made of, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommentInput {
    pub name: String,
    pub email: Option<String>,
    pub body: String,
}

pub const MAX_COMMENT: usize = 2_000;
pub const MAX_COMMENTER_NAME: usize = 80;

impl CommentInput {
    /// Check what a reader typed; each problem named against its field (`ten`, `email`, `noi_dung`).
    pub fn check(
        name: &str,
        email: &str,
        body: &str,
    ) -> Result<CommentInput, Vec<(&'static str, String)>> {
        let name = normalize(name);
        let email = normalize(email);
        let body = normalize(body)
            .lines()
            .map(str::trim_end)
            .collect::<Vec<_>>()
            .join("\n");
        let body = body.trim().to_string();
        let mut errors = Vec::new();
        if name.is_empty() {
            errors.push(("ten", "Nhập tên của bạn".to_string()));
        } else if name.chars().count() > MAX_COMMENTER_NAME {
            errors.push(("ten", format!("Tên dài quá {MAX_COMMENTER_NAME} ký tự")));
        }
        let email = if email.is_empty() {
            None
        } else {
            match crate::identity::Email::parse(&email) {
                Ok(e) => Some(e.as_str().to_string()),
                Err(_) => {
                    errors.push((
                        "email",
                        "Địa chỉ thư điện tử không đúng dạng, ví dụ ten@example.vn (có thể để trống)"
                            .to_string(),
                    ));
                    None
                }
            }
        };
        let length = body.chars().count();
        if length == 0 {
            errors.push(("noi_dung", "Nhập nội dung bình luận".to_string()));
        } else if length > MAX_COMMENT {
            errors.push((
                "noi_dung",
                format!("Bình luận dài {length} ký tự, tối đa {MAX_COMMENT} ký tự"),
            ));
        }
        if errors.is_empty() {
            Ok(CommentInput { name, email, body })
        } else {
            Err(errors)
        }
    }
}

/// Where a comment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommentStatus {
    /// Waiting for an editor.
    Held,
    Published,
    Rejected,
}

impl CommentStatus {
    pub fn code(self) -> &'static str {
        match self {
            CommentStatus::Held => "held",
            CommentStatus::Published => "published",
            CommentStatus::Rejected => "rejected",
        }
    }

    pub fn parse(code: &str) -> Option<CommentStatus> {
        [
            CommentStatus::Held,
            CommentStatus::Published,
            CommentStatus::Rejected,
        ]
        .into_iter()
        .find(|s| s.code() == code)
    }
}

/// Whether an article's approved version is shown to readers at `now`.
pub fn is_live(
    publish_at: Option<OffsetDateTime>,
    unpublish_at: Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> bool {
    publish_at.is_some_and(|p| p <= now) && unpublish_at.is_none_or(|u| u > now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn averages_read_the_vietnamese_way() {
        assert_eq!(rating_label(116, 27), "4,3/5 — 27 lượt đánh giá");
        assert_eq!(rating_label(9, 2), "4,5/5 — 2 lượt đánh giá");
        assert_eq!(rating_label(5, 1), "5,0/5 — 1 lượt đánh giá");
        assert_eq!(rating_label(0, 0), "Chưa có lượt đánh giá");
        assert_eq!(rating_label(4000, 1000), "4,0/5 — 1.000 lượt đánh giá");
    }

    #[test]
    fn stars_are_one_to_five() {
        assert_eq!(Stars::parse("5").map(Stars::get), Some(5));
        for bad in ["0", "6", "-1", "", "3.5", "năm"] {
            assert_eq!(Stars::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_slug_is_the_title_folded_with_the_end_of_the_id() {
        let id = Uuid::parse_str("0192f0c4-7a1e-7000-8000-00000000abcd").unwrap();
        assert_eq!(
            slug("huong dan nop ho so truc tuyen!", id),
            "huong-dan-nop-ho-so-truc-tuyen-00abcd"
        );
        assert_eq!(slug("", id), "bai-viet-00abcd");
    }

    #[test]
    fn a_comment_names_each_problem() {
        let errors = CommentInput::check(" ", "khong-phai-email", "").unwrap_err();
        let fields: Vec<_> = errors.iter().map(|(f, _)| *f).collect();
        assert_eq!(fields, ["ten", "email", "noi_dung"]);
        let long = "a".repeat(MAX_COMMENT + 1);
        let errors = CommentInput::check("An", "", &long).unwrap_err();
        assert!(errors[0].1.contains("2001"), "{errors:?}");
        let ok = CommentInput::check("Nguyễn Văn An", "", "  Rất hữu ích \n").unwrap();
        assert_eq!(ok.body, "Rất hữu ích");
        assert_eq!(ok.email, None);
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            Just(Step::Save),
            Just(Step::Submit),
            Just(Step::Approve),
            Just(Step::Return)
        ]
    }

    proptest! {
        /// Whatever the editors do, an article reaches "approved" only by an approval of a submitted copy, and a
        /// copy is never approved twice without being submitted again.
        #[test]
        fn approval_only_follows_submission(steps in proptest::collection::vec(step(), 0..30)) {
            let mut status = Status::Draft;
            for step in steps {
                if let Some(next) = status.after(step) {
                    if next == Status::Approved {
                        prop_assert_eq!(status, Status::Submitted);
                        prop_assert_eq!(step, Step::Approve);
                    }
                    if step == Step::Approve {
                        prop_assert_eq!(status, Status::Submitted);
                    }
                    status = next;
                } else {
                    prop_assert!(step != Step::Save);
                }
            }
        }
    }
}
