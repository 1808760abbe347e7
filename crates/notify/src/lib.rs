//! Outgoing e-mail. [`Mailer`] is the interface the rest of motcua uses; [`FileMailer`] (the default) writes
//! each message as an RFC 5322 `.eml` file into a directory, so a development or demo installation needs no
//! mail server and an operator can open what would have been sent. An SMTP transport plugs in behind the same
//! trait.

use async_trait::async_trait;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// A plain-text message in Vietnamese.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub to: String,
    pub subject: String,
    pub body: String,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("không gửi được thư: {0}")]
    Transport(String),
}

#[async_trait]
pub trait Mailer: Send + Sync {
    async fn send(&self, message: &Message) -> Result<(), MailError>;
}

/// RFC 2047 encoded-word for a UTF-8 header value (subjects are Vietnamese).
fn encode_header(value: &str) -> String {
    if value.is_ascii() {
        return value.to_string();
    }
    const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = value.as_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(B64[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    format!("=?UTF-8?B?{out}?=")
}

/// The message as an RFC 5322 document (UTF-8 body, 8bit).
pub fn to_eml(from: &str, message: &Message, date: time::OffsetDateTime) -> String {
    let date = date
        .format(&time::format_description::well_known::Rfc2822)
        .unwrap_or_default();
    let clean = |s: &str| s.replace(['\r', '\n'], " ");
    format!(
        "From: {}\r\nTo: {}\r\nSubject: {}\r\nDate: {date}\r\nMessage-ID: <{}@motcua>\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{}\r\n",
        clean(from),
        clean(&message.to),
        encode_header(&clean(&message.subject)),
        uuid::Uuid::now_v7(),
        message.body.replace("\r\n", "\n").replace('\n', "\r\n")
    )
}

/// Writes each message to `dir` as `<time>-<id>.eml`.
pub struct FileMailer {
    pub dir: PathBuf,
    pub from: String,
}

#[async_trait]
impl Mailer for FileMailer {
    async fn send(&self, message: &Message) -> Result<(), MailError> {
        let now = time::OffsetDateTime::now_utc();
        let eml = to_eml(&self.from, message, now);
        let name = format!(
            "{}-{}.eml",
            now.unix_timestamp(),
            uuid::Uuid::now_v7().simple()
        );
        let dir = self.dir.clone();
        tokio::task::spawn_blocking(move || {
            std::fs::create_dir_all(&dir)?;
            std::fs::write(dir.join(name), eml)
        })
        .await
        .map_err(|e| MailError::Transport(e.to_string()))?
        .map_err(|e| MailError::Transport(e.to_string()))
    }
}

/// Keeps messages in memory (tests, and a place to look in a demo).
#[derive(Default, Clone)]
pub struct MemoryMailer {
    pub sent: Arc<Mutex<Vec<Message>>>,
}

impl MemoryMailer {
    pub fn messages(&self) -> Vec<Message> {
        self.sent.lock().map(|m| m.clone()).unwrap_or_default()
    }
}

#[async_trait]
impl Mailer for MemoryMailer {
    async fn send(&self, message: &Message) -> Result<(), MailError> {
        self.sent
            .lock()
            .map_err(|_| MailError::Transport("mailbox poisoned".into()))?
            .push(message.clone());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vietnamese_subjects_are_encoded_and_headers_cannot_be_injected() {
        let m = Message {
            to: "an@example.vn\r\nBcc: evil@example.com".into(),
            subject: "Đặt lại mật khẩu".into(),
            body: "Xin chào\nDòng hai".into(),
        };
        let eml = to_eml(
            "Cổng DVC <noreply@example.vn>",
            &m,
            time::macros::datetime!(2026-01-05 02:00 UTC),
        );
        assert!(
            eml.contains("Subject: =?UTF-8?B?xJDhurd0IGzhuqFpIG3huq10IGto4bqpdQ==?="),
            "{eml}"
        );
        assert!(
            !eml.contains("\r\nBcc:"),
            "a CR/LF in an address cannot add a header"
        );
        assert!(eml.ends_with("Xin chào\r\nDòng hai\r\n"));
    }

    #[tokio::test]
    async fn the_file_mailer_writes_one_eml_per_message() {
        let dir = tempfile::tempdir().unwrap();
        let mailer = FileMailer {
            dir: dir.path().join("outbox"),
            from: "noreply@example.vn".into(),
        };
        let m = Message {
            to: "an@example.vn".into(),
            subject: "Thử".into(),
            body: "Nội dung".into(),
        };
        mailer.send(&m).await.unwrap();
        mailer.send(&m).await.unwrap();
        let files: Vec<_> = std::fs::read_dir(dir.path().join("outbox"))
            .unwrap()
            .collect();
        assert_eq!(files.len(), 2);
    }
}
