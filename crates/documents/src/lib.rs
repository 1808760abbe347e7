//! Printed documents as PDF. Text is set in DejaVu Sans (embedded, subset to the glyphs used) so Vietnamese
//! prints and copies correctly anywhere; a QR code links each receipt to its tracking page. Built on a low-level
//! PDF writer rather than a typesetting engine: a receipt is a few lines of text, and a clean build on two cores
//! must stay quick (docs/adr/0005).

use pdf_writer::{
    Content, Filter, Finish, Name, Pdf, Rect, Ref, Str, TextStr,
    types::{CidFontType, FontFlags, SystemInfo, UnicodeCmap},
};
use std::collections::BTreeMap;

const REGULAR: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");
const BOLD: &[u8] = include_bytes!("../fonts/DejaVuSans-Bold.ttf");

#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    #[error("phông chữ: {0}")]
    Font(String),
    #[error("mã QR: {0}")]
    Qr(String),
    #[error("bảng tính: {0}")]
    Spreadsheet(String),
}

/// A cell of a spreadsheet: text, or a number a spreadsheet can add up.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Number(f64),
}

/// A table as an XLSX workbook of one sheet: a bold title row, the header row, then the rows; columns sized to
/// their content, the header frozen.
pub fn table_xlsx(
    sheet: &str,
    title: &str,
    headers: &[&str],
    rows: &[Vec<Cell>],
) -> Result<Vec<u8>, DocumentError> {
    use rust_xlsxwriter::{Format, Workbook};
    let err = |e: rust_xlsxwriter::XlsxError| DocumentError::Spreadsheet(e.to_string());
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let ws = book.add_worksheet();
    // a sheet's name is at most 31 characters, without []:*?/\
    let name: String = sheet
        .chars()
        .filter(|c| !matches!(c, '[' | ']' | ':' | '*' | '?' | '/' | '\\'))
        .take(31)
        .collect();
    ws.set_name(name).map_err(err)?;
    ws.write_string_with_format(0, 0, title, &bold)
        .map_err(err)?;
    for (c, h) in headers.iter().enumerate() {
        let col = u16::try_from(c).map_err(|e| DocumentError::Spreadsheet(e.to_string()))?;
        ws.write_string_with_format(2, col, *h, &bold)
            .map_err(err)?;
    }
    for (r, row) in rows.iter().enumerate() {
        let at = u32::try_from(r + 3).map_err(|e| DocumentError::Spreadsheet(e.to_string()))?;
        for (c, cell) in row.iter().enumerate() {
            let col = u16::try_from(c).map_err(|e| DocumentError::Spreadsheet(e.to_string()))?;
            match cell {
                Cell::Text(t) => ws.write_string(at, col, t).map_err(err)?,
                Cell::Number(n) => ws.write_number(at, col, *n).map_err(err)?,
            };
        }
    }
    ws.set_freeze_panes(3, 0).map_err(err)?;
    ws.autofit();
    book.save_to_buffer().map_err(err)
}

/// A one-page administrative document: the national header, the issuing agency, a title, the dossier code with a
/// QR code to its tracking page, label/value rows, an optional numbered list, paragraphs and a signature block.
/// The receipt and the slips of Circular 01/2018 (→ 03/2025) are all laid out this way.
#[derive(Debug, Clone, Default)]
pub struct Document {
    pub agency_name: String,
    /// `Mẫu số 01`, with the template version (`Mẫu số 01 (phiên bản 1)`): an old dossier re-prints with the
    /// version it was issued under.
    pub form_number: Option<String>,
    pub title: String,
    pub code: String,
    /// Encoded in the QR code and printed in full.
    pub tracking_url: String,
    /// What the printed link is for; empty: "Tra cứu hồ sơ" (the tracking page).
    pub link_label: String,
    pub fields: Vec<(String, String)>,
    pub list_title: Option<String>,
    pub list: Vec<String>,
    pub paragraphs: Vec<String>,
    /// (position, name) of each who signs, side by side, e.g. ("NGƯỜI NỘP HỒ SƠ", "Lê Thị Hồng") and
    /// ("NGƯỜI TIẾP NHẬN HỒ SƠ", "Trần Thị Bình"); one alone signs on the right.
    pub signatures: Vec<(String, String)>,
    pub footer: String,
    /// The document's number line on the left under the agency, e.g. `Số: 000.31.00.H56-261128-0001/TNHS`.
    pub number: Option<String>,
    /// Place and date on the right, e.g. `Đắk Lắk, ngày 29 tháng 11 năm 2026`.
    pub place_date: Option<String>,
    /// A ruled table after the fields (the components of slip 01, the hand-overs of slip 06, the register).
    pub table: Option<Table>,
    /// A4 turned sideways, for a wide table (the register).
    pub landscape: bool,
}

/// A ruled table: a bold header row, then one row per entry; a row that does not fit goes on to the next page
/// under the header repeated.
#[derive(Debug, Clone, Default)]
pub struct Table {
    pub title: Option<String>,
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<String>>,
}

#[derive(Debug, Clone)]
pub struct Column {
    pub header: String,
    /// The column's share of the width, relative to the others.
    pub weight: f32,
    /// Centred (numbers, dates) rather than left-aligned.
    pub centred: bool,
}

impl Column {
    pub fn new(header: &str, weight: f32) -> Self {
        Column {
            header: header.into(),
            weight,
            centred: false,
        }
    }

    pub fn centred(header: &str, weight: f32) -> Self {
        Column {
            header: header.into(),
            weight,
            centred: true,
        }
    }
}

/// What the receipt of an online submission says.
#[derive(Debug, Clone)]
pub struct Receipt {
    pub site_name: String,
    pub agency_name: String,
    pub code: String,
    pub procedure: String,
    pub case: String,
    pub applicant: String,
    /// `HH:MM dd/mm/yyyy` (UTC+7).
    pub submitted_at: String,
    pub status: String,
    /// Component name and how many files were attached for it.
    pub components: Vec<(String, usize)>,
    /// The tracking page (also in the QR code).
    pub tracking_url: String,
}

/// A4 in points.
const PAGE: (f32, f32) = (595.0, 842.0);
const MARGIN: f32 = 56.0;

struct FontUse<'a> {
    face: ttf_parser::Face<'a>,
    data: &'a [u8],
    remapper: subsetter::GlyphRemapper,
    /// New glyph id → the character it shows (for copy and search).
    chars: BTreeMap<u16, char>,
}

impl<'a> FontUse<'a> {
    fn new(data: &'a [u8]) -> Result<Self, DocumentError> {
        Ok(FontUse {
            face: ttf_parser::Face::parse(data, 0)
                .map_err(|e| DocumentError::Font(e.to_string()))?,
            data,
            remapper: subsetter::GlyphRemapper::new(),
            chars: BTreeMap::new(),
        })
    }

    /// Encode `text` as 2-byte glyph ids of the subset; returns the bytes and the width at `size`.
    fn encode(&mut self, text: &str, size: f32) -> (Vec<u8>, f32) {
        let mut out = Vec::with_capacity(text.len() * 2);
        let mut width = 0.0;
        let upem = f32::from(self.face.units_per_em());
        for c in text.chars() {
            let gid = self
                .face
                .glyph_index(c)
                .or_else(|| self.face.glyph_index('?'))
                .unwrap_or(ttf_parser::GlyphId(0));
            let new = self.remapper.remap(gid.0);
            self.chars.entry(new).or_insert(c);
            out.extend_from_slice(&new.to_be_bytes());
            width += f32::from(self.face.glyph_hor_advance(gid).unwrap_or(0)) * size / upem;
        }
        (out, width)
    }

    fn width(&self, text: &str, size: f32) -> f32 {
        let upem = f32::from(self.face.units_per_em());
        text.chars()
            .map(|c| {
                let gid = self.face.glyph_index(c).unwrap_or(ttf_parser::GlyphId(0));
                f32::from(self.face.glyph_hor_advance(gid).unwrap_or(0)) * size / upem
            })
            .sum()
    }
}

struct Page<'a> {
    content: Content,
    /// Pages already filled, when the text runs past the bottom margin.
    done: Vec<Content>,
    fonts: [FontUse<'a>; 2],
    y: f32,
    /// Width and height in points (A4, upright or sideways).
    size: (f32, f32),
    /// Text above this height keeps clear of the QR code on the right (its width and bottom edge).
    beside_qr: Option<(f32, f32)>,
}

#[derive(Clone, Copy)]
enum Align {
    Left(f32),
    Center,
}

impl Page<'_> {
    fn new_page(&mut self) {
        self.done
            .push(std::mem::replace(&mut self.content, Content::new()));
        self.y = self.size.1 - MARGIN;
    }

    fn width(&self) -> f32 {
        self.size.0 - 2.0 * MARGIN
    }

    fn text(&mut self, text: &str, size: f32, bold: bool, align: Align) {
        if self.y < MARGIN {
            // a long document goes on to another A4 page
            self.new_page();
        }
        let y = self.y;
        self.text_at(text, size, bold, align, y);
    }

    /// Text with its baseline at `y`, wherever the page stands.
    fn text_at(&mut self, text: &str, size: f32, bold: bool, align: Align, y: f32) {
        let page_width = self.size.0;
        let font = &mut self.fonts[usize::from(bold)];
        let (bytes, width) = font.encode(text, size);
        let x = match align {
            Align::Left(x) => x,
            Align::Center => (page_width - width) / 2.0,
        };
        self.content.begin_text();
        self.content
            .set_font(Name(if bold { b"F2" } else { b"F1" }), size);
        self.content.next_line(x, y);
        self.content.show(Str(&bytes));
        self.content.end_text();
    }

    /// A ruled table across the width between the margins.
    fn table(&mut self, t: &Table) {
        const SIZE: f32 = 8.5;
        const PAD: f32 = 3.0;
        let line = SIZE * 1.3;
        let total: f32 = t
            .columns
            .iter()
            .map(|c| c.weight)
            .sum::<f32>()
            .max(f32::EPSILON);
        let widths: Vec<f32> = t
            .columns
            .iter()
            .map(|c| c.weight / total * self.width())
            .collect();
        if let Some(title) = &t.title {
            self.text(title, 11.0, true, Align::Left(MARGIN));
            self.y -= 16.0;
        }
        let header: Vec<String> = t.columns.iter().map(|c| c.header.clone()).collect();
        // a row never runs past a page: its cells keep what fits on a whole page, the rest shown as "…"
        let most_lines = ((self.size.1 - 2.0 * MARGIN - 60.0) / line)
            .floor()
            .max(1.0) as usize;
        let row_height =
            |page: &Page<'_>, cells: &[String], bold: bool| -> (Vec<Vec<String>>, f32) {
                let mut lines: Vec<Vec<String>> = cells
                    .iter()
                    .zip(&widths)
                    .map(|(cell, w)| {
                        // a line break in a cell starts a new line (giao / nhận)
                        cell.split('\n')
                            .flat_map(|part| page.wrap(part, SIZE, bold, w - 2.0 * PAD))
                            .collect()
                    })
                    .collect();
                for cell in &mut lines {
                    if cell.len() > most_lines {
                        cell.truncate(most_lines);
                        if let Some(last) = cell.last_mut() {
                            last.push_str(" …");
                        }
                    }
                }
                let most = lines.iter().map(Vec::len).max().unwrap_or(1).max(1);
                (lines, most as f32 * line + 2.0 * PAD)
            };
        let draw = |page: &mut Page<'_>, lines: &[Vec<String>], height: f32, bold: bool| {
            let top = page.y;
            let mut x = MARGIN;
            page.content.set_line_width(0.5);
            for ((cell, w), column) in lines.iter().zip(&widths).zip(&t.columns) {
                page.content.rect(x, top - height, *w, height);
                for (i, text) in cell.iter().enumerate() {
                    let y = top - PAD - SIZE - i as f32 * line;
                    let left = if column.centred || bold {
                        x + (w - page.fonts[usize::from(bold)].width(text, SIZE)) / 2.0
                    } else {
                        x + PAD
                    };
                    page.text_at(text, SIZE, bold, Align::Left(left), y);
                }
                x += w;
            }
            page.content.stroke();
            page.y = top - height;
        };
        let (header_lines, header_height) = row_height(self, &header, true);
        if self.y - header_height - line * 2.0 < MARGIN {
            self.new_page();
        }
        draw(self, &header_lines, header_height, true);
        for row in &t.rows {
            let (lines, height) = row_height(self, row, false);
            if self.y - height < MARGIN {
                self.new_page();
                draw(self, &header_lines, header_height, true);
            }
            draw(self, &lines, height, false);
        }
        self.y -= 18.0;
    }

    /// Break `text` into lines no wider than `width`.
    fn wrap(&self, text: &str, size: f32, bold: bool, width: f32) -> Vec<String> {
        let font = &self.fonts[usize::from(bold)];
        let mut lines = Vec::new();
        let mut line = String::new();
        for whole in text.split_whitespace() {
            // a word wider than the line (a dossier code in a narrow cell) breaks between characters
            let mut pieces = Vec::new();
            let mut piece = String::new();
            for c in whole.chars() {
                piece.push(c);
                if font.width(&piece, size) > width && piece.chars().count() > 1 {
                    piece.pop();
                    pieces.push(std::mem::take(&mut piece));
                    piece.push(c);
                }
            }
            pieces.push(piece);
            let last = pieces.pop().unwrap_or_default();
            for full in pieces {
                if !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                }
                lines.push(full);
            }
            let word = last.as_str();
            let candidate = if line.is_empty() {
                word.to_string()
            } else {
                format!("{line} {word}")
            };
            if font.width(&candidate, size) > width && !line.is_empty() {
                lines.push(std::mem::replace(&mut line, word.to_string()));
            } else {
                line = candidate;
            }
        }
        if !line.is_empty() {
            lines.push(line);
        }
        lines
    }

    fn paragraph(&mut self, text: &str, size: f32, bold: bool, x: f32, width: f32) {
        for line in self.wrap(text, size, bold, width) {
            self.text(&line, size, bold, Align::Left(x));
            self.y -= size * 1.45;
        }
    }

    /// A label in bold on the left, the value wrapped beside it.
    /// `label_width`: the labels' column; `gap`: the space after a field, in lines.
    fn field(&mut self, label: &str, value: &str, label_width: f32, gap: f32) {
        let size = 11.0;
        self.text(label, size, true, Align::Left(MARGIN));
        let clear = match self.beside_qr {
            // any line whose top could reach the QR code or its caption keeps clear of them
            Some((qr_width, bottom)) if self.y + size > bottom - 16.0 => qr_width + 12.0,
            _ => 0.0,
        };
        let lines = self.wrap(value, size, false, self.width() - label_width - clear);
        for (i, line) in lines.iter().enumerate() {
            if i > 0 {
                self.y -= size * 1.45;
            }
            self.text(line, size, false, Align::Left(MARGIN + label_width));
        }
        self.y -= size * gap;
    }

    fn qr(&mut self, url: &str, x: f32, top: f32, size: f32) -> Result<(), DocumentError> {
        let code =
            qrcode::QrCode::new(url.as_bytes()).map_err(|e| DocumentError::Qr(e.to_string()))?;
        let n = code.width();
        let colors = code.to_colors();
        // a quiet zone of four modules around the code
        let module = size / (n as f32 + 8.0);
        self.content.set_fill_rgb(0.0, 0.0, 0.0);
        for (i, color) in colors.iter().enumerate() {
            if *color == qrcode::Color::Dark {
                let (row, col) = (i / n, i % n);
                self.content.rect(
                    x + (col as f32 + 4.0) * module,
                    top - (row as f32 + 5.0) * module,
                    module,
                    module,
                );
            }
        }
        self.content.fill_nonzero();
        Ok(())
    }
}

/// A QR code of `url` as an SVG image (black modules on white, a quiet zone of four modules), for a web page.
pub fn qr_svg(url: &str, label: &str) -> Result<String, DocumentError> {
    let code = qrcode::QrCode::new(url.as_bytes()).map_err(|e| DocumentError::Qr(e.to_string()))?;
    let n = code.width();
    let side = n + 8;
    let mut path = String::new();
    for (i, color) in code.to_colors().iter().enumerate() {
        if *color == qrcode::Color::Dark {
            path.push_str(&format!("M{} {}h1v1h-1z", i % n + 4, i / n + 4));
        }
    }
    let label: String = label
        .chars()
        .filter(|c| !matches!(c, '<' | '>' | '&' | '"'))
        .collect();
    Ok(format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {side} {side}\" role=\"img\" \
         aria-label=\"{label}\" shape-rendering=\"crispEdges\"><rect width=\"{side}\" height=\"{side}\" \
         fill=\"#fff\"/><path d=\"{path}\" fill=\"#000\"/></svg>"
    ))
}

fn deflate(data: &[u8]) -> Vec<u8> {
    miniz_oxide::deflate::compress_to_vec_zlib(data, 6)
}

/// The receipt of an online submission (biên nhận hồ sơ nộp trực tuyến), one A4 page.
pub fn receipt_pdf(r: &Receipt) -> Result<Vec<u8>, DocumentError> {
    document_pdf(&Document {
        agency_name: r.agency_name.clone(),
        form_number: None,
        title: "BIÊN NHẬN HỒ SƠ NỘP TRỰC TUYẾN".into(),
        code: r.code.clone(),
        tracking_url: r.tracking_url.clone(),
        link_label: String::new(),
        fields: vec![
            ("Thủ tục:".into(), r.procedure.clone()),
            ("Trường hợp:".into(), r.case.clone()),
            ("Cơ quan giải quyết:".into(), r.agency_name.clone()),
            ("Người nộp:".into(), r.applicant.clone()),
            ("Nộp lúc:".into(), r.submitted_at.clone()),
            ("Trạng thái:".into(), r.status.clone()),
        ],
        list_title: Some("Thành phần hồ sơ đã nộp:".into()),
        list: r
            .components
            .iter()
            .map(|(name, files)| format!("{name} ({files} tệp)"))
            .collect(),
        paragraphs: vec![
            "Biên nhận này xác nhận hệ thống đã nhận hồ sơ nộp trực tuyến. Trong 1 ngày làm việc, cơ quan kiểm tra hồ sơ: nếu đầy đủ sẽ gửi Giấy tiếp nhận hồ sơ và hẹn trả kết quả; nếu chưa đầy đủ sẽ thông báo một lần các giấy tờ cần bổ sung.".into(),
        ],
        footer: r.site_name.clone(),
        ..Default::default()
    })
}

/// Any [`Document`] as A4 pages (one, unless its lists run past the bottom of the page).
pub fn document_pdf(d: &Document) -> Result<Vec<u8>, DocumentError> {
    let size = if d.landscape { (PAGE.1, PAGE.0) } else { PAGE };
    let mut page = Page {
        content: Content::new(),
        done: Vec::new(),
        fonts: [FontUse::new(REGULAR)?, FontUse::new(BOLD)?],
        y: size.1 - MARGIN,
        size,
        beside_qr: None,
    };
    let width = page.width();
    let compact = d.number.is_some() || d.place_date.is_some();
    let right = |page: &Page<'_>, text: &str, size: f32, bold: bool| {
        Align::Left(page.size.0 - MARGIN - page.fonts[usize::from(bold)].width(text, size))
    };
    if let Some(number) = &d.form_number {
        let at = right(&page, number, 9.0, false);
        page.text(number, 9.0, false, at);
        page.y -= 18.0;
    }
    page.text(
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        12.0,
        true,
        Align::Center,
    );
    page.y -= 16.0;
    page.text("Độc lập - Tự do - Hạnh phúc", 12.0, true, Align::Center);
    page.y -= 36.0;
    page.text(&d.agency_name.to_uppercase(), 11.0, true, Align::Center);
    page.y -= 24.0;
    if d.number.is_some() || d.place_date.is_some() {
        if let Some(number) = &d.number {
            page.text(number, 10.0, false, Align::Left(MARGIN));
        }
        if let Some(place) = &d.place_date {
            let at = right(&page, place, 10.0, false);
            page.text(place, 10.0, false, at);
        }
        page.y -= 24.0;
    } else {
        page.y -= 8.0;
    }
    for line in page.wrap(&d.title, 15.0, true, width) {
        page.text(&line, 15.0, true, Align::Center);
        page.y -= 20.0;
    }
    page.y -= 16.0;
    // a dossier's slip carries its code and a QR to its tracking page; a register (no one dossier) does not
    if !d.code.is_empty() {
        let qr_size = if compact { 96.0 } else { 110.0 };
        let qr_top = page.y + 14.0;
        page.qr(&d.tracking_url, size.0 - MARGIN - qr_size, qr_top, qr_size)?;
        page.text("Mã hồ sơ", 11.0, true, Align::Left(MARGIN));
        page.y -= 20.0;
        page.text(&d.code, 16.0, true, Align::Left(MARGIN));
        let below_code = page.y - 30.0;
        page.y = qr_top - qr_size - 4.0;
        let caption = "Quét mã để tra cứu hồ sơ";
        let caption_width = page.fonts[0].width(caption, 8.0);
        page.text(
            caption,
            8.0,
            false,
            Align::Left(size.0 - MARGIN - (qr_size + caption_width) / 2.0),
        );
        page.y -= 28.0;
        if compact {
            // the fields begin under the code, beside the QR code
            page.beside_qr = Some((qr_size, page.y + 12.0));
            page.y = below_code;
        }
    }
    // the labels' column fits the longest label; a form of the circular (with its number line) sets its fields
    // closer, so that it stays on one page with its table and signatures
    let label_width = d
        .fields
        .iter()
        .map(|(label, _)| page.fonts[1].width(label, 11.0) + 10.0)
        .fold(150.0_f32, f32::max)
        .min(width * 0.5);
    for (label, value) in &d.fields {
        page.field(label, value, label_width, if compact { 1.6 } else { 1.9 });
    }
    if let Some(table) = &d.table {
        page.table(table);
    }
    if let Some(title) = &d.list_title {
        page.text(title, 11.0, true, Align::Left(MARGIN));
        page.y -= 18.0;
    }
    for (i, item) in d.list.iter().enumerate() {
        page.paragraph(
            &format!("{}. {item}", i + 1),
            11.0,
            false,
            MARGIN + 12.0,
            width - 12.0,
        );
    }
    page.y -= 10.0;
    for text in &d.paragraphs {
        page.paragraph(text, 10.0, false, MARGIN, width);
        page.y -= 4.0;
    }
    if !d.tracking_url.is_empty() {
        page.paragraph(
            &format!(
                "{}: {}",
                if d.link_label.is_empty() {
                    "Tra cứu hồ sơ"
                } else {
                    d.link_label.as_str()
                },
                d.tracking_url
            ),
            10.0,
            false,
            MARGIN,
            width,
        );
    }
    if !d.signatures.is_empty() {
        // the block of signatures stays on one page
        if page.y - 110.0 < MARGIN {
            page.new_page();
        }
        page.y -= 24.0;
        let top = page.y;
        // one signature alone takes the right column; several share the width
        let columns: Vec<(f32, f32)> = match d.signatures.len() {
            1 => vec![(MARGIN + width * 0.55, width * 0.45)],
            n => {
                let w = width / n as f32;
                (0..n).map(|i| (MARGIN + w * i as f32, w)).collect()
            }
        };
        for ((position, name), (left, column)) in d.signatures.iter().zip(columns) {
            let centre = |page: &Page<'_>, text: &str, size: f32, bold: bool| {
                let w = page.fonts[usize::from(bold)].width(text, size);
                Align::Left(left + (column - w) / 2.0)
            };
            page.y = top;
            let at = centre(&page, position, 11.0, true);
            page.text(position, 11.0, true, at);
            page.y -= 14.0;
            let hint = "(Ký, ghi rõ họ tên)";
            let at = centre(&page, hint, 9.0, false);
            page.text(hint, 9.0, false, at);
            page.y -= if compact { 46.0 } else { 56.0 };
            let at = centre(&page, name, 11.0, true);
            page.text(name, 11.0, true, at);
            page.y -= 20.0;
        }
    }
    page.paragraph(&d.footer, 9.0, false, MARGIN, width);
    finish(page, &format!("{} {}", d.title, d.code))
}

fn finish(page: Page<'_>, title: &str) -> Result<Vec<u8>, DocumentError> {
    let mut pdf = Pdf::new();
    let mut next = 1;
    let mut alloc = || {
        let r = Ref::new(next);
        next += 1;
        r
    };
    let (catalog, tree, info) = (alloc(), alloc(), alloc());
    let font_ids: Vec<[Ref; 5]> = (0..2)
        .map(|_| [alloc(), alloc(), alloc(), alloc(), alloc()])
        .collect();
    let Page {
        content,
        mut done,
        fonts: used_fonts,
        size,
        ..
    } = page;
    done.push(content);
    let ids: Vec<(Ref, Ref)> = done.iter().map(|_| (alloc(), alloc())).collect();

    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree)
        .kids(ids.iter().map(|(page_id, _)| *page_id))
        .count(i32::try_from(ids.len()).unwrap_or(i32::MAX));
    for (content, (page_id, contents)) in done.into_iter().zip(&ids) {
        let mut p = pdf.page(*page_id);
        p.media_box(Rect::new(0.0, 0.0, size.0, size.1));
        p.parent(tree);
        p.contents(*contents);
        let mut resources = p.resources();
        let mut fonts = resources.fonts();
        fonts.pair(Name(b"F1"), font_ids[0][0]);
        fonts.pair(Name(b"F2"), font_ids[1][0]);
        fonts.finish();
        resources.finish();
        p.finish();
        pdf.stream(*contents, &deflate(&content.finish()))
            .filter(Filter::FlateDecode);
    }

    let system = SystemInfo {
        registry: Str(b"Adobe"),
        ordering: Str(b"Identity"),
        supplement: 0,
    };
    for (font, [type0, cid, descriptor, file, cmap]) in used_fonts.iter().zip(font_ids) {
        let base = if std::ptr::eq(font.data, BOLD) {
            "MOTCUA+DejaVuSans-Bold"
        } else {
            "MOTCUB+DejaVuSans"
        };
        let subset = subsetter::subset(font.data, 0, &font.remapper)
            .map_err(|e| DocumentError::Font(format!("{e:?}")))?;
        pdf.type0_font(type0)
            .base_font(Name(base.as_bytes()))
            .encoding_predefined(Name(b"Identity-H"))
            .descendant_font(cid)
            .to_unicode(cmap);
        let upem = f32::from(font.face.units_per_em());
        let scale = |v: i16| f32::from(v) * 1000.0 / upem;
        let widths: Vec<f32> = font
            .remapper
            .remapped_gids()
            .map(|old| {
                f32::from(
                    font.face
                        .glyph_hor_advance(ttf_parser::GlyphId(old))
                        .unwrap_or(0),
                ) * 1000.0
                    / upem
            })
            .collect();
        let mut c = pdf.cid_font(cid);
        c.subtype(CidFontType::Type2)
            .base_font(Name(base.as_bytes()))
            .system_info(system)
            .font_descriptor(descriptor)
            .default_width(0.0)
            .cid_to_gid_map_predefined(Name(b"Identity"));
        c.widths().consecutive(0, widths);
        c.finish();
        let bbox = font.face.global_bounding_box();
        pdf.font_descriptor(descriptor)
            .name(Name(base.as_bytes()))
            .flags(FontFlags::NON_SYMBOLIC)
            .bbox(Rect::new(
                scale(bbox.x_min),
                scale(bbox.y_min),
                scale(bbox.x_max),
                scale(bbox.y_max),
            ))
            .italic_angle(0.0)
            .ascent(scale(font.face.ascender()))
            .descent(scale(font.face.descender()))
            .cap_height(scale(font.face.capital_height().unwrap_or(1400)))
            .stem_v(80.0)
            .font_file2(file);
        pdf.stream(file, &deflate(&subset))
            .filter(Filter::FlateDecode);
        let mut unicode = UnicodeCmap::new(Name(b"Motcua-UTF16"), system);
        for (gid, c) in &font.chars {
            unicode.pair(*gid, *c);
        }
        pdf.cmap(cmap, &unicode.finish());
    }
    pdf.document_info(info)
        .title(TextStr(title))
        .producer(TextStr("motcua"));
    Ok(pdf.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn receipt() -> Receipt {
        Receipt {
            site_name: "Cổng Dịch vụ công tỉnh Đắk Lắk".into(),
            agency_name: "UBND phường Tân Lập".into(),
            code: "000.31.00.H56-261128-0001".into(),
            procedure: "Đăng ký khai sinh".into(),
            case: "Đăng ký khai sinh trong thời hạn 60 ngày kể từ ngày sinh, kèm theo một mô tả rất dài để phải xuống dòng".into(),
            applicant: "Lê Thị Hồng".into(),
            submitted_at: "09:15 28/11/2026".into(),
            status: "Mới đăng ký".into(),
            components: vec![("Tờ khai đăng ký khai sinh".into(), 1), ("Giấy chứng sinh".into(), 2)],
            tracking_url: "https://dichvucong.example.vn/tra-cuu-ho-so?ma=000.31.00.H56-261128-0001".into(),
        }
    }

    #[test]
    fn a_table_becomes_a_workbook_with_its_vietnamese_text() {
        let xlsx = table_xlsx(
            "Thống kê 11/2026",
            "Thống kê tháng 11/2026",
            &["Cơ quan", "Tổng nhận"],
            &[vec![Cell::Text("Sở Tư pháp".into()), Cell::Number(12.0)]],
        )
        .unwrap();
        // a zip archive holding the workbook's parts
        assert!(xlsx.starts_with(b"PK"));
        let text = String::from_utf8_lossy(&xlsx);
        assert!(text.contains("xl/worksheets/sheet1.xml"), "a sheet");
        assert!(text.contains("xl/sharedStrings.xml"), "its strings");
    }

    #[test]
    fn a_qr_image_is_svg_with_one_square_per_dark_module() {
        let url = "https://dichvucong.example.vn/xac-thuc/abc";
        let svg = qr_svg(url, "Mã QR <xác thực>").unwrap();
        let code = qrcode::QrCode::new(url.as_bytes()).unwrap();
        let dark = code
            .to_colors()
            .iter()
            .filter(|c| **c == qrcode::Color::Dark)
            .count();
        assert_eq!(svg.matches("h1v1h-1z").count(), dark);
        let side = code.width() + 8;
        assert!(svg.contains(&format!("viewBox=\"0 0 {side} {side}\"")));
        assert!(svg.contains("aria-label=\"Mã QR xác thực\""), "{svg}");
    }

    #[test]
    fn a_receipt_is_a_small_pdf_with_every_vietnamese_letter_in_its_fonts() {
        let pdf = receipt_pdf(&receipt()).unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        assert!(pdf.ends_with(b"%%EOF\n") || pdf.ends_with(b"%%EOF"));
        // subset fonts keep a receipt small
        assert!(pdf.len() < 60_000, "{} bytes", pdf.len());
        let text = String::from_utf8_lossy(&pdf);
        assert!(text.contains("/FontFile2"));
        assert!(text.contains("/ToUnicode"));
        let face = ttf_parser::Face::parse(REGULAR, 0).unwrap();
        for c in
            "ăâđêôơưàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵĂÂĐÊÔƠƯ".chars()
        {
            assert!(
                face.glyph_index(c).is_some(),
                "{c} missing from DejaVu Sans"
            );
        }
    }

    #[test]
    fn a_long_list_goes_on_to_more_pages() {
        let mut doc = Document {
            title: "SỔ THEO DÕI HỒ SƠ".into(),
            code: "x".into(),
            tracking_url: "https://example.vn".into(),
            ..Default::default()
        };
        let pages = |pdf: &[u8]| -> u32 {
            let text = String::from_utf8_lossy(pdf);
            let at = text.find("/Count ").expect("a page tree") + "/Count ".len();
            text[at..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
                .parse()
                .unwrap()
        };
        assert_eq!(pages(&document_pdf(&doc).unwrap()), 1);
        doc.list = (1..=120)
            .map(|i| format!("Hồ sơ số {i}: Nguyễn Văn An, đăng ký khai sinh"))
            .collect();
        let many = document_pdf(&doc).unwrap();
        assert!(pages(&many) >= 3, "{} pages", pages(&many));
    }

    #[test]
    fn a_long_table_goes_on_to_more_pages_sideways_when_asked() {
        let doc = Document {
            title: "SỔ THEO DÕI HỒ SƠ".into(),
            landscape: true,
            table: Some(Table {
                title: None,
                columns: vec![Column::centred("TT", 0.5), Column::new("Mã hồ sơ", 3.0)],
                rows: (1..=150)
                    .map(|i| vec![i.to_string(), format!("000.00.06.H56-261129-{i:04}")])
                    .collect(),
            }),
            ..Default::default()
        };
        let pdf = document_pdf(&doc).unwrap();
        let text = String::from_utf8_lossy(&pdf);
        assert!(text.contains("/MediaBox [0 0 842 595]"), "landscape");
        let at = text.find("/Count ").expect("a page tree") + "/Count ".len();
        let pages: u32 = text[at..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect::<String>()
            .parse()
            .unwrap();
        assert!(pages >= 4, "{pages} pages");
    }

    #[test]
    fn a_row_taller_than_a_page_is_cut_to_fit_rather_than_run_off_it() {
        let note = "Trả lại bước trước vì thiếu xác minh nơi cư trú của người mẹ. ".repeat(80);
        let table = Table {
            title: None,
            columns: vec![Column::centred("TT", 0.5), Column::new("Ghi chú", 1.0)],
            rows: vec![vec!["1".into(), note]],
        };
        let mut page = Page {
            content: Content::new(),
            done: Vec::new(),
            fonts: [FontUse::new(REGULAR).unwrap(), FontUse::new(BOLD).unwrap()],
            y: PAGE.1 - MARGIN,
            size: PAGE,
            beside_qr: None,
        };
        page.table(&table);
        // the row ends above the bottom margin (then the space after a table)
        assert!(page.y >= MARGIN - 18.0 - 1.0, "ends at {}", page.y);
    }

    #[test]
    fn a_word_wider_than_its_cell_breaks_between_characters() {
        let page = Page {
            content: Content::new(),
            done: Vec::new(),
            fonts: [FontUse::new(REGULAR).unwrap(), FontUse::new(BOLD).unwrap()],
            y: 0.0,
            size: PAGE,
            beside_qr: None,
        };
        let code = "000.00.06.H56-261129-0001";
        let lines = page.wrap(&format!("Mã {code} đã nhận"), 9.0, false, 60.0);
        assert!(lines.len() >= 3, "{lines:?}");
        for line in &lines {
            assert!(page.fonts[0].width(line, 9.0) <= 60.0, "{line}");
        }
        assert_eq!(lines.concat().replace(' ', ""), format!("Mã{code}đãnhận"));
    }

    #[test]
    fn long_values_wrap_inside_the_margins() {
        let page = Page {
            content: Content::new(),
            done: Vec::new(),
            fonts: [FontUse::new(REGULAR).unwrap(), FontUse::new(BOLD).unwrap()],
            y: 0.0,
            size: PAGE,
            beside_qr: None,
        };
        let lines = page.wrap(&receipt().case, 11.0, false, 200.0);
        assert!(lines.len() > 2);
        for line in &lines {
            assert!(page.fonts[0].width(line, 11.0) <= 200.0, "{line}");
        }
        assert_eq!(lines.join(" "), receipt().case);
    }
}
