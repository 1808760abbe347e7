//! The newsroom: editors write articles and moderate readers' comments; the head editor approves what readers
//! see. Who may do what is in `domain::policy` (`WriteArticles`, `ApproveArticles`, `ModerateComments`).

pub(crate) mod articles;
pub(crate) mod comments;
