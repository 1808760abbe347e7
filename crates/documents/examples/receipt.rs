//! Writes a sample receipt to the path given (to look at the layout): `cargo run -p motcua-documents --example receipt -- out.pdf`.
fn main() {
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "bien-nhan-mau.pdf".into());
    let receipt = motcua_documents::Receipt {
        site_name: "Cổng Dịch vụ công tỉnh Đắk Lắk".into(),
        agency_name: "UBND phường Tân Lập".into(),
        code: "000.31.00.H56-261128-0001".into(),
        procedure: "Đăng ký khai sinh".into(),
        case: "Đăng ký khai sinh trong thời hạn 60 ngày kể từ ngày sinh".into(),
        applicant: "Lê Thị Hồng".into(),
        submitted_at: "09:15 28/11/2026".into(),
        status: "Mới đăng ký".into(),
        components: vec![
            ("Tờ khai đăng ký khai sinh".into(), 1),
            (
                "Giấy chứng sinh hoặc văn bản của người làm chứng xác nhận về việc sinh".into(),
                2,
            ),
        ],
        tracking_url: "https://dichvucong.example.vn/tra-cuu-ho-so?ma=000.31.00.H56-261128-0001"
            .into(),
    };
    match motcua_documents::receipt_pdf(&receipt) {
        Ok(pdf) => {
            if let Err(e) = std::fs::write(&out, pdf) {
                eprintln!("{out}: {e}");
                std::process::exit(1);
            }
        }
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
}
