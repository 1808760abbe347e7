//! The public portal: home, news articles (read, rated, commented), the procedure catalogue and each procedure, form templates, and the verification page
//! of signed electronic results, help pages editors write, and what search engines read (`robots.txt`,
//! `sitemap.xml`).

pub(crate) mod articles;
pub(crate) mod crawlers;
pub(crate) mod help;
pub(crate) mod index766;
pub(crate) mod pages;
pub mod results;
pub(crate) mod statistics;
pub(crate) mod verification;
