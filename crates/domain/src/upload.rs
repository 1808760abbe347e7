//! Attached files: what is accepted is decided from the bytes, never from the name or the browser's claim, and the
//! name a citizen gave is kept only as a label, cleaned of paths and control characters.

use serde::{Deserialize, Serialize};

/// The file types a dossier accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileType {
    Pdf,
    Jpeg,
    Png,
}

impl FileType {
    pub fn mime(self) -> &'static str {
        match self {
            FileType::Pdf => "application/pdf",
            FileType::Jpeg => "image/jpeg",
            FileType::Png => "image/png",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            FileType::Pdf => "pdf",
            FileType::Jpeg => "jpg",
            FileType::Png => "png",
        }
    }

    pub fn parse(text: &str) -> Option<FileType> {
        match text {
            "application/pdf" | "pdf" => Some(FileType::Pdf),
            "image/jpeg" | "jpeg" => Some(FileType::Jpeg),
            "image/png" | "png" => Some(FileType::Png),
            _ => None,
        }
    }
}

/// Why a file was refused (the message is shown next to the upload field).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileRefusal {
    #[error("Tệp “{0}” trống (0 byte). Hãy chọn lại tệp.")]
    Empty(String),
    #[error("Tệp “{name}” lớn quá: tối đa {limit} cho mỗi tệp.")]
    TooLarge { name: String, limit: String },
    #[error(
        "Tệp “{0}” không phải PDF, JPEG hoặc PNG (đã kiểm tra nội dung tệp, không chỉ phần đuôi tên)."
    )]
    WrongType(String),
    #[error("Tệp “{0}” bị hỏng hoặc không đọc được.")]
    Unreadable(String),
    #[error("Hồ sơ đã có {limit} tệp đính kèm, không thể thêm tệp này.")]
    DossierFull { limit: String },
    #[error("Tệp “{0}” không an toàn và đã bị từ chối.")]
    Unsafe(String),
}

/// Limits on attachments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UploadLimits {
    pub max_file_bytes: u64,
    pub max_dossier_bytes: u64,
}

impl Default for UploadLimits {
    fn default() -> Self {
        UploadLimits {
            max_file_bytes: 10 * 1024 * 1024,
            max_dossier_bytes: 50 * 1024 * 1024,
        }
    }
}

/// `10 MB`, `512 KB`, `734 byte`: sizes as shown to people (1 MB = 1,048,576 bytes, decimal comma).
pub fn format_size(bytes: u64) -> String {
    const KB: u64 = 1024;
    const MB: u64 = 1024 * 1024;
    if bytes >= MB {
        let tenths = (bytes * 10 + MB / 2) / MB;
        if tenths.is_multiple_of(10) {
            format!("{} MB", tenths / 10)
        } else {
            format!("{},{} MB", tenths / 10, tenths % 10)
        }
    } else if bytes >= KB {
        format!("{} KB", (bytes + KB / 2) / KB)
    } else {
        format!("{bytes} byte")
    }
}

/// Decide the type from the first bytes; reject what is empty, unknown or truncated.
pub fn sniff(name: &str, bytes: &[u8]) -> Result<FileType, FileRefusal> {
    if bytes.is_empty() {
        return Err(FileRefusal::Empty(name.into()));
    }
    let kind = if bytes.starts_with(b"%PDF-") {
        FileType::Pdf
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        FileType::Jpeg
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        FileType::Png
    } else {
        return Err(FileRefusal::WrongType(name.into()));
    };
    let complete = match kind {
        // a PDF ends with %%EOF (possibly followed by whitespace) within its last kilobyte
        FileType::Pdf => {
            let tail = &bytes[bytes.len().saturating_sub(1024)..];
            tail.windows(5).any(|w| w == b"%%EOF")
        }
        FileType::Jpeg => bytes.len() > 4 && bytes.windows(2).any(|w| w == [0xFF, 0xD9]),
        FileType::Png => bytes.len() > 16 && bytes.windows(4).any(|w| w == b"IEND"),
    };
    if complete {
        Ok(kind)
    } else {
        Err(FileRefusal::Unreadable(name.into()))
    }
}

/// The label to keep and to serve a file under: the last path segment, NFC, without control characters,
/// quotes or separators, at most 120 characters, never empty; the extension follows the sniffed type.
pub fn clean_file_name(name: &str, kind: FileType) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = crate::text::normalize(last)
        .chars()
        .filter(|c| {
            !c.is_control() && !matches!(c, '"' | '\'' | ';' | ':' | '<' | '>' | '|' | '*' | '?')
        })
        .collect();
    let mut cleaned = cleaned.trim_matches(['.', ' ']).to_string();
    while cleaned.contains("..") {
        cleaned = cleaned.replace("..", ".");
    }
    let stem = match cleaned.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem.to_string(),
        _ => cleaned,
    };
    let stem: String = stem.chars().take(120).collect();
    let stem = if stem.trim().is_empty() {
        "tep-dinh-kem".to_string()
    } else {
        stem.trim().to_string()
    };
    format!("{stem}.{}", kind.extension())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn types_come_from_the_bytes() {
        assert_eq!(sniff("a.pdf", b"%PDF-1.7\n...\n%%EOF\n"), Ok(FileType::Pdf));
        assert_eq!(
            sniff("a.png", b"\x89PNG\r\n\x1a\n0000IHDR0000IEND"),
            Ok(FileType::Png)
        );
        assert_eq!(
            sniff("a.jpg", &[0xFF, 0xD8, 0xFF, 0xE0, 1, 0xFF, 0xD9]),
            Ok(FileType::Jpeg)
        );
        // an executable named .pdf
        assert!(matches!(
            sniff("x.pdf", b"MZ\x90\x00\x03"),
            Err(FileRefusal::WrongType(_))
        ));
        assert!(matches!(
            sniff("x.pdf", b"\x7fELF\x02\x01"),
            Err(FileRefusal::WrongType(_))
        ));
        assert!(matches!(sniff("x.pdf", b""), Err(FileRefusal::Empty(_))));
        assert!(matches!(
            sniff("x.pdf", b"%PDF-1.4 truncated"),
            Err(FileRefusal::Unreadable(_))
        ));
    }

    #[test]
    fn names_lose_paths_and_control_characters() {
        assert_eq!(clean_file_name("../../x.pdf", FileType::Pdf), "x.pdf");
        assert_eq!(
            clean_file_name("C:\\Users\\an\\giấy tờ.PDF", FileType::Pdf),
            "giấy tờ.pdf"
        );
        assert_eq!(
            clean_file_name("a\r\nSet-Cookie: x.pdf", FileType::Pdf),
            "aSet-Cookie x.pdf"
        );
        assert_eq!(clean_file_name("..", FileType::Png), "tep-dinh-kem.png");
        assert_eq!(clean_file_name("ảnh.exe", FileType::Jpeg), "ảnh.jpg");
    }

    #[test]
    fn sizes_read_naturally() {
        assert_eq!(format_size(10 * 1024 * 1024), "10 MB");
        assert_eq!(format_size(1_572_864), "1,5 MB");
        assert_eq!(format_size(204_800), "200 KB");
        assert_eq!(format_size(12), "12 byte");
    }

    proptest! {
        #[test]
        fn clean_names_are_safe(name in ".{0,300}") {
            let clean = clean_file_name(&name, FileType::Pdf);
            prop_assert!(clean.ends_with(".pdf"));
            prop_assert!(!clean.contains('/') && !clean.contains('\\') && !clean.contains(".."));
            prop_assert!(!clean.chars().any(|c| c.is_control() || c == '"'));
            prop_assert!(clean.chars().count() <= 124);
        }
    }
}
