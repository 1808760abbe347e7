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

/// Sends through an SMTP server (a relay on the host or the private network: no TLS is compiled in).
pub struct SmtpMailer {
    transport: lettre::AsyncSmtpTransport<lettre::Tokio1Executor>,
    from: lettre::message::Mailbox,
}

impl SmtpMailer {
    /// `from` like `Cổng Dịch vụ công <noreply@example.vn>`.
    pub fn new(host: &str, port: u16, from: &str) -> Result<SmtpMailer, MailError> {
        let from = from
            .parse()
            .map_err(|e| MailError::Transport(format!("địa chỉ người gửi “{from}”: {e}")))?;
        let transport =
            lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::builder_dangerous(host)
                .port(port)
                .timeout(Some(std::time::Duration::from_secs(20)))
                .build();
        Ok(SmtpMailer { transport, from })
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, message: &Message) -> Result<(), MailError> {
        use lettre::AsyncTransport;
        let to = message.to.parse().map_err(|e| {
            MailError::Transport(format!("địa chỉ người nhận “{}”: {e}", message.to))
        })?;
        let email = lettre::Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(message.subject.clone())
            .header(lettre::message::header::ContentType::TEXT_PLAIN)
            .body(message.body.clone())
            .map_err(|e| MailError::Transport(e.to_string()))?;
        self.transport
            .send(email)
            .await
            .map_err(|e| MailError::Transport(e.to_string()))?;
        Ok(())
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

    /// A minimal SMTP server for one conversation; returns what the client sent after DATA.
    async fn smtp_server() -> (u16, tokio::task::JoinHandle<(Vec<String>, String)>) {
        use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let handle = tokio::spawn(async move {
            let (socket, _) = listener.accept().await.unwrap();
            let (read, mut write) = socket.into_split();
            let mut lines = BufReader::new(read).lines();
            write.write_all(b"220 test ESMTP\r\n").await.unwrap();
            let mut commands = Vec::new();
            let mut data = String::new();
            while let Some(line) = lines.next_line().await.unwrap() {
                let upper = line.to_ascii_uppercase();
                commands.push(line.clone());
                let reply: &[u8] = if upper.starts_with("EHLO") {
                    b"250-test\r\n250 8BITMIME\r\n"
                } else if upper.starts_with("DATA") {
                    write.write_all(b"354 go ahead\r\n").await.unwrap();
                    while let Some(l) = lines.next_line().await.unwrap() {
                        if l == "." {
                            break;
                        }
                        data.push_str(&l);
                        data.push('\n');
                    }
                    b"250 queued\r\n"
                } else if upper.starts_with("QUIT") {
                    write.write_all(b"221 bye\r\n").await.unwrap();
                    break;
                } else {
                    b"250 ok\r\n"
                };
                write.write_all(reply).await.unwrap();
            }
            (commands, data)
        });
        (port, handle)
    }

    #[tokio::test]
    async fn the_smtp_mailer_holds_a_real_smtp_conversation() {
        let (port, server) = smtp_server().await;
        let mailer =
            SmtpMailer::new("127.0.0.1", port, "Cổng Dịch vụ công <noreply@example.vn>").unwrap();
        let m = Message {
            to: "an@example.vn".into(),
            subject: "Đặt lại mật khẩu".into(),
            body: "Xin chào Nguyễn Văn An".into(),
        };
        mailer.send(&m).await.unwrap();
        drop(mailer);
        let (commands, data) = tokio::time::timeout(std::time::Duration::from_secs(10), server)
            .await
            .unwrap()
            .unwrap();
        assert!(
            commands
                .iter()
                .any(|c| c.starts_with("MAIL FROM:<noreply@example.vn>")),
            "{commands:?}"
        );
        assert!(
            commands
                .iter()
                .any(|c| c.starts_with("RCPT TO:<an@example.vn>")),
            "{commands:?}"
        );
        assert!(
            data.contains("Subject: =?utf-8?b?") || data.contains("Subject: =?UTF-8?B?"),
            "{data}"
        );
        assert!(data.contains("To: an@example.vn"), "{data}");
    }

    #[test]
    fn bad_addresses_are_refused_before_any_connection() {
        assert!(SmtpMailer::new("127.0.0.1", 25, "không phải địa chỉ").is_err());
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
