//! CSV answers for clients that ask with `Accept: text/csv` (spreadsheets, exports): UTF-8 with a
//! byte-order mark, because Excel reads BOM-less CSV in the machine's legacy code page and turns
//! Chinese text into mojibake. Rows are built by the rooms; quoting is the `csv` crate's.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};

use crate::error::ApiError;

pub const TEXT_CSV: &str = "text/csv; charset=utf-8";
const BOM: &str = "\u{feff}";

/// The media types a negotiated read can answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
    Svg,
}

/// What the client's `Accept` asks for among `offered` (JSON when it names none of them, or
/// names JSON at least as highly). Quality values are honoured; `*/*` means JSON.
pub fn negotiate(req: &HttpRequest, offered: &[Format]) -> Format {
    let Some(accept) = req.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return Format::Json;
    };
    let mut best = (Format::Json, -1.0_f32);
    for part in accept.split(',') {
        let mut pieces = part.split(';');
        let media = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = pieces
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        let format = match media.as_str() {
            "application/json" | "application/*" | "*/*" => Format::Json,
            "text/csv" | "text/*" => Format::Csv,
            "image/svg+xml" | "image/*" => Format::Svg,
            _ => continue,
        };
        if (format == Format::Json || offered.contains(&format)) && q > 0.0 && q > best.1 {
            best = (format, q);
        }
    }
    best.0
}

/// CSV text (with BOM) of a header row and rows.
pub fn write(header_row: &[&str], rows: impl IntoIterator<Item = Vec<String>>) -> Result<String, ApiError> {
    let mut out = ::csv::Writer::from_writer(Vec::new());
    let failed = |e: ::csv::Error| ApiError::internal(format!("CSV could not be written: {e}"));
    out.write_record(header_row).map_err(failed)?;
    for row in rows {
        out.write_record(&row).map_err(failed)?;
    }
    let bytes = out.into_inner().map_err(|e| ApiError::internal(format!("CSV could not be written: {e}")))?;
    Ok(format!("{BOM}{}", String::from_utf8_lossy(&bytes)))
}

/// 200 with a CSV body; `link` is the next page's `Link` header, when there is one.
pub fn respond(body: String, link: Option<String>) -> HttpResponse {
    let mut res = HttpResponse::Ok();
    res.insert_header((header::CONTENT_TYPE, TEXT_CSV));
    if let Some(link) = link {
        res.insert_header((header::LINK, link));
    }
    res.body(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn pick(accept: &str) -> Format {
        let req = TestRequest::default().insert_header((header::ACCEPT, accept)).to_http_request();
        negotiate(&req, &[Format::Csv])
    }

    #[test]
    fn accept_picks_the_best_offered_format() {
        assert_eq!(pick("text/csv"), Format::Csv);
        assert_eq!(pick("application/json"), Format::Json);
        assert_eq!(pick("*/*"), Format::Json);
        assert_eq!(pick("text/csv;q=0.5, application/json"), Format::Json);
        assert_eq!(pick("application/json;q=0.5, text/csv"), Format::Csv);
        assert_eq!(pick("image/svg+xml"), Format::Json, "not offered here");
        assert_eq!(negotiate(&TestRequest::default().to_http_request(), &[Format::Csv]), Format::Json);
    }

    #[test]
    fn csv_has_a_bom_and_quotes_what_needs_it() {
        let text = write(&["name", "notes"], [vec!["华东".to_string(), "a, \"b\"".to_string()]]).unwrap();
        assert_eq!(text, "\u{feff}name,notes\n华东,\"a, \"\"b\"\"\"\n");
    }
}
